<?php
/**
 * The plugin's settings: one option for what may be shown, one option per secret (never shown).
 *
 * @package SsoBridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Reads, validates and saves the settings.
 */
final class SSO_Bridge_Settings {

	const OPTION = 'sso_bridge_settings';

	/** Secrets live in their own options (not autoloaded) and are write-only in the page. */
	const SECRETS = array(
		'ticket_secret' => 'sso_bridge_ticket_secret',
		'private_key'   => 'sso_bridge_private_key',
		'api_key'       => 'sso_bridge_api_key',
	);

	/** The ranks sso-bridge accepts (README "Accounts"). */
	const RANKS = array( 'visitor', 'regular', 'moderator', 'manager', 'owner' );

	/** Account fields a WordPress user field or meta key can fill. */
	const MAPPED_FIELDS = array( 'username', 'nickname', 'given_name', 'family_name', 'picture' );

	/**
	 * User fields and meta that never leave the site, whatever the settings say: passwords,
	 * session tokens and capabilities are not account data.
	 */
	const NEVER_SENT = '/^(user_pass|user_activation_key|session_tokens|.*capabilities|.*user_level|.*user-settings.*|.*_secret.*|.*password.*|.*token.*)$/i';

	/**
	 * The defaults: WordPress's own names, the built-in roles ranked as sso-bridge's README suggests.
	 *
	 * @return array<string, mixed>
	 */
	public static function defaults(): array {
		return array(
			'bridge_url'     => '',
			'algorithm'      => 'HS256',
			'email_verified' => false,
			'send_auth_time' => true,
			'rank_map'       => array(
				'administrator' => 'owner',
				'editor'        => 'moderator',
				'author'        => 'regular',
				'contributor'   => 'regular',
				'subscriber'    => 'regular',
			),
			'default_rank'   => 'regular',
			'fields'         => array(
				'username'    => 'user_login',
				'nickname'    => 'display_name',
				'given_name'  => 'first_name',
				'family_name' => 'last_name',
				'picture'     => 'avatar',
			),
			'profile_fields' => array(),
		);
	}

	/**
	 * The saved settings over the defaults.
	 *
	 * @return array<string, mixed>
	 */
	public static function get(): array {
		$saved = get_option( self::OPTION, array() );
		$all   = array_replace( self::defaults(), is_array( $saved ) ? $saved : array() );
		// Roles added after the map was saved get the default rank, never an error.
		$all['rank_map'] = array_replace( self::defaults()['rank_map'], (array) $all['rank_map'] );
		$all['fields']   = array_replace( self::defaults()['fields'], (array) $all['fields'] );
		return $all;
	}

	/**
	 * The sso-bridge base URL (its ISSUER), without a trailing slash; '' when unset.
	 */
	public static function bridge_url(): string {
		return rtrim( (string) self::get()['bridge_url'], '/' );
	}

	/**
	 * A secret's value, '' when unset.
	 *
	 * @param string $name One of the keys of SECRETS.
	 */
	public static function secret( string $name ): string {
		return (string) get_option( self::SECRETS[ $name ], '' );
	}

	/**
	 * Whether a secret is set (what the page shows instead of the value).
	 *
	 * @param string $name One of the keys of SECRETS.
	 */
	public static function has_secret( string $name ): bool {
		return '' !== self::secret( $name );
	}

	/**
	 * Sets or clears a secret.
	 *
	 * @param string      $name  One of the keys of SECRETS.
	 * @param string|null $value The new value; null clears it.
	 */
	public static function set_secret( string $name, ?string $value ): void {
		if ( null === $value ) {
			delete_option( self::SECRETS[ $name ] );
			return;
		}
		update_option( self::SECRETS[ $name ], $value, false );
	}

	/**
	 * Whether tickets can be signed: a URL and the key for the chosen algorithm.
	 */
	public static function can_sign(): bool {
		$settings = self::get();
		$key      = 'RS256' === $settings['algorithm'] ? 'private_key' : 'ticket_secret';
		return '' !== self::bridge_url() && self::has_secret( $key );
	}

	/**
	 * Whether sync is configured: a URL and the API key.
	 */
	public static function can_sync(): bool {
		return '' !== self::bridge_url() && self::has_secret( 'api_key' );
	}

	/**
	 * Whether a user field or meta key may be sent (see NEVER_SENT).
	 *
	 * @param string $key A WP_User field or meta key.
	 */
	public static function is_sendable_key( string $key ): bool {
		return 1 === preg_match( '/^[A-Za-z0-9_\-]{1,64}$/', $key ) && 1 !== preg_match( self::NEVER_SENT, $key );
	}

	/**
	 * Validates the settings form's non-secret fields.
	 *
	 * @param array<string, mixed> $input The submitted fields (unslashed).
	 * @return array{0: array<string, mixed>, 1: string[]} The settings to save and the errors found.
	 */
	public static function validate( array $input ): array {
		$settings = self::get();
		$errors   = array();
		// A crafted form may send arrays where strings belong and the reverse: read each field by
		// its expected shape so that nothing but a validation error comes of it.
		$text        = static fn( $value ): string => is_string( $value ) ? $value : '';
		$rank_input  = is_array( $input['rank_map'] ?? null ) ? $input['rank_map'] : array();
		$field_input = is_array( $input['fields'] ?? null ) ? $input['fields'] : array();

		$url = $input['bridge_url'] ?? '';
		$url = is_string( $url ) ? trim( $url ) : null;
		if ( null === $url ) {
			$errors[] = __( 'The sso-bridge URL must be an http(s) URL such as https://sso.example.com, without a query or fragment.', 'sso-bridge' );
		} elseif ( '' === $url ) {
			$settings['bridge_url'] = '';
		} elseif ( ! preg_match( '#^https?://[^/\s?\#@]+(/[^\s?\#]*)?$#', $url ) ) {
			$errors[] = __( 'The sso-bridge URL must be an http(s) URL such as https://sso.example.com, without a query or fragment.', 'sso-bridge' );
		} else {
			$settings['bridge_url'] = rtrim( $url, '/' );
		}

		$algorithm = $text( $input['algorithm'] ?? 'HS256' );
		if ( in_array( $algorithm, array( 'HS256', 'RS256' ), true ) ) {
			$settings['algorithm'] = $algorithm;
		} else {
			$errors[] = __( 'The signing algorithm must be HS256 or RS256.', 'sso-bridge' );
		}

		$settings['email_verified'] = ! empty( $input['email_verified'] );
		$settings['send_auth_time'] = ! empty( $input['send_auth_time'] );

		$rank_map = array();
		foreach ( array_keys( wp_roles()->roles ) as $role ) {
			$rank = $text( $rank_input[ $role ] ?? $settings['rank_map'][ $role ] ?? $settings['default_rank'] );
			if ( ! in_array( $rank, self::RANKS, true ) ) {
				/* translators: %s: a role name */
				$errors[] = sprintf( __( 'The rank of the role %s is not one sso-bridge accepts.', 'sso-bridge' ), $role );
				continue;
			}
			$rank_map[ $role ] = $rank;
		}
		$settings['rank_map'] = $rank_map;

		foreach ( self::MAPPED_FIELDS as $field ) {
			$source = trim( $text( $field_input[ $field ] ?? '' ) );
			if ( '' === $source && 'username' !== $field ) {
				$settings['fields'][ $field ] = '';
			} elseif ( 'picture' === $field && 'avatar' === $source ) {
				$settings['fields'][ $field ] = 'avatar';
			} elseif ( self::is_sendable_key( $source ) ) {
				$settings['fields'][ $field ] = $source;
			} else {
				/* translators: %s: an account field such as nickname */
				$errors[] = sprintf( __( 'The source of %s must be a user field or meta key (letters, digits, _ and -), and not a secret one.', 'sso-bridge' ), $field );
			}
		}

		$profile = array();
		foreach ( preg_split( '/[\s,]+/', $text( $input['profile_fields'] ?? '' ), -1, PREG_SPLIT_NO_EMPTY ) as $key ) {
			if ( self::is_sendable_key( $key ) ) {
				$profile[] = $key;
			} else {
				/* translators: %s: a meta key */
				$errors[] = sprintf( __( 'The profile field %s cannot be sent.', 'sso-bridge' ), $key );
			}
		}
		$settings['profile_fields'] = array_values( array_unique( $profile ) );

		return array( $settings, $errors );
	}
}
