<?php
/**
 * A WordPress user as an sso-bridge account (README "Accounts"), by the settings' field map.
 *
 * @package SsoBridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Maps users to account records.
 */
final class SSO_Bridge_Account {

	/**
	 * The account record of a user: external_id is the user ID, the rank comes from the role.
	 * Empty values are sent as null, so a cleared field is cleared in sso-bridge too.
	 *
	 * @param WP_User $user The user.
	 * @return array<string, mixed>
	 */
	public static function from_user( WP_User $user ): array {
		$settings = SSO_Bridge_Settings::get();
		$fields   = $settings['fields'];
		$account  = array(
			'external_id'    => (string) $user->ID,
			'username'       => self::text( $user, $fields['username'] ) ?? $user->user_login,
			'email'          => is_email( $user->user_email ) ? $user->user_email : null,
			'email_verified' => (bool) $settings['email_verified'],
			'nickname'       => self::text( $user, $fields['nickname'] ),
			'given_name'     => self::text( $user, $fields['given_name'] ),
			'family_name'    => self::text( $user, $fields['family_name'] ),
			'picture'        => self::picture( $user, $fields['picture'] ),
			'rank'           => self::rank( $user, $settings ),
		);
		$locale = (string) get_user_meta( $user->ID, 'locale', true );
		if ( '' !== $locale ) {
			// WordPress writes en_US; sso-bridge takes BCP 47 (en-US).
			$account['locale'] = str_replace( '_', '-', $locale );
		}
		$profile = array();
		foreach ( $settings['profile_fields'] as $key ) {
			$value = $user->get( $key );
			if ( is_scalar( $value ) && '' !== (string) $value ) {
				$profile[ $key ] = (string) $value;
			}
		}
		// An object, never a JSON list: sso-bridge refuses `[]` as a profile.
		$account['profile'] = (object) $profile;
		return $account;
	}

	/**
	 * The rank of the user's highest-ranked role; the default rank without a mapped role.
	 *
	 * @param WP_User              $user     The user.
	 * @param array<string, mixed> $settings The settings.
	 */
	public static function rank( WP_User $user, array $settings ): string {
		$best = $settings['default_rank'];
		foreach ( (array) $user->roles as $role ) {
			$rank = $settings['rank_map'][ $role ] ?? null;
			if ( null !== $rank && array_search( $rank, SSO_Bridge_Settings::RANKS, true ) > array_search( $best, SSO_Bridge_Settings::RANKS, true ) ) {
				$best = $rank;
			}
		}
		return $best;
	}

	/**
	 * A user field or meta value as trimmed text (at most 255 characters), or null.
	 *
	 * @param WP_User $user The user.
	 * @param string  $key  A WP_User field or meta key; '' for none.
	 */
	private static function text( WP_User $user, string $key ): ?string {
		if ( '' === $key || ! SSO_Bridge_Settings::is_sendable_key( $key ) ) {
			return null;
		}
		$value = $user->get( $key );
		if ( ! is_scalar( $value ) ) {
			return null;
		}
		$value = trim( wp_strip_all_tags( (string) $value ) );
		return '' === $value ? null : mb_substr( $value, 0, 255 );
	}

	/**
	 * The picture URL: the avatar (get_avatar_url) or a field holding an http(s) URL.
	 *
	 * @param WP_User $user   The user.
	 * @param string  $source 'avatar', a field or meta key, or ''.
	 */
	private static function picture( WP_User $user, string $source ): ?string {
		$url = 'avatar' === $source ? get_avatar_url( $user->ID ) : self::text( $user, $source );
		if ( ! is_string( $url ) || ! preg_match( '#^https?://#i', $url ) || strlen( $url ) > 2048 ) {
			return null;
		}
		return $url;
	}
}
