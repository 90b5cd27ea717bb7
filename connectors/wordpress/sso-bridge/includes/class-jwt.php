<?php
/**
 * Signs the site's tickets (README "Site tickets"): a compact JWS, HS256 with the shared
 * ticket secret or RS256 with the site's private key. PHP's own hash_hmac / openssl_sign:
 * no JWT library to ship.
 *
 * @package SsoBridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * Builds and signs the JWTs sso-bridge accepts from the site.
 */
final class SSO_Bridge_Jwt {

	/** Seconds a ticket lives: sso-bridge allows at most 120 (README "Site tickets"). */
	const LIFETIME = 60;

	/**
	 * Base64url without padding (RFC 7515 §2).
	 *
	 * @param string $data Bytes.
	 */
	public static function b64url( string $data ): string {
		return rtrim( strtr( base64_encode( $data ), '+/', '-_' ), '=' ); // phpcs:ignore WordPress.PHP.DiscouragedPHPFunctions.obfuscation_base64_encode -- JWS encoding.
	}

	/**
	 * A sign-in ticket for the member: `aud` = {bridge}/ticket.
	 *
	 * @param array<string, mixed> $account   The member's account fields, with external_id.
	 * @param int|null             $auth_time When the member last entered credentials (contract §2).
	 * @return string The compact JWS.
	 * @throws RuntimeException When no key is configured or signing fails.
	 */
	public static function sign_in_ticket( array $account, ?int $auth_time ): string {
		$claims = $account;
		if ( null !== $auth_time ) {
			$claims['auth_time'] = $auth_time;
		}
		return self::sign( $claims, SSO_Bridge_Settings::bridge_url() . '/ticket' );
	}

	/**
	 * A logout ticket (contract §4): `aud` = {bridge}/logout and nothing but the member's key.
	 *
	 * @param string $external_id The member's WordPress user ID.
	 * @throws RuntimeException When no key is configured or signing fails.
	 */
	public static function logout_ticket( string $external_id ): string {
		return self::sign( array( 'external_id' => $external_id ), SSO_Bridge_Settings::bridge_url() . '/logout' );
	}

	/**
	 * Adds aud, iat, exp and a random jti, then signs with the configured algorithm and key.
	 *
	 * @param array<string, mixed> $claims   The payload.
	 * @param string               $audience The endpoint's URL.
	 * @throws RuntimeException When no key is configured or signing fails.
	 */
	private static function sign( array $claims, string $audience ): string {
		$now       = time();
		$claims    = array_merge(
			$claims,
			array(
				'aud' => $audience,
				'iat' => $now,
				'exp' => $now + self::LIFETIME,
				'jti' => bin2hex( random_bytes( 16 ) ),
			)
		);
		$algorithm = SSO_Bridge_Settings::get()['algorithm'];
		$header    = array(
			'alg' => $algorithm,
			'typ' => 'JWT',
		);
		$input     = self::b64url( wp_json_encode( $header ) ) . '.' . self::b64url( json_encode( $claims, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR ) ); // phpcs:ignore WordPress.WP.AlternativeFunctions.json_encode_json_encode -- JSON_THROW_ON_ERROR.
		if ( 'RS256' === $algorithm ) {
			$pem = SSO_Bridge_Settings::secret( 'private_key' );
			$key = '' === $pem ? false : openssl_pkey_get_private( $pem );
			if ( false === $key || ! openssl_sign( $input, $signature, $key, OPENSSL_ALGO_SHA256 ) ) {
				throw new RuntimeException( 'no usable RS256 private key' );
			}
		} else {
			$secret = SSO_Bridge_Settings::secret( 'ticket_secret' );
			if ( '' === $secret ) {
				throw new RuntimeException( 'no ticket secret' );
			}
			$signature = hash_hmac( 'sha256', $input, $secret, true );
		}
		return $input . '.' . self::b64url( $signature );
	}
}
