<?php
/**
 * Logout in WordPress ends the member's bridge sessions (contract §4, server to server): a
 * logout ticket POSTed to `{bridge}/logout`. A failure is logged (never the ticket) and not
 * retried: a late logout could end a session the member started after it.
 *
 * @package SsoBridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * The wp_logout hook.
 */
final class SSO_Bridge_Logout {

	/**
	 * Hooks into WordPress.
	 */
	public static function register(): void {
		add_action( 'wp_logout', array( self::class, 'on_logout' ) );
	}

	/**
	 * Ends the member's bridge sessions.
	 *
	 * @param int|string $user_id The user who signed out (WordPress 5.5+ passes it).
	 */
	public static function on_logout( $user_id = 0 ): void {
		$user_id = (int) $user_id;
		if ( $user_id <= 0 || ! SSO_Bridge_Settings::can_sign() ) {
			return;
		}
		try {
			$result = SSO_Bridge_Client::logout( SSO_Bridge_Jwt::logout_ticket( (string) $user_id ) );
		} catch ( Throwable $e ) {
			$result = new WP_Error( 'sso_bridge_signing_failed', 'cannot sign a logout ticket' );
		}
		if ( is_wp_error( $result ) || 204 !== $result['status'] ) {
			error_log( 'sso-bridge: ending the bridge session of user ' . $user_id . ' failed: ' . SSO_Bridge_Client::describe( $result ) ); // phpcs:ignore WordPress.PHP.DevelopmentFunctions.error_log_error_log -- an operator's log line, no secret in it.
		}
	}
}
