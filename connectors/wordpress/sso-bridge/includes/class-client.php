<?php
/**
 * Server-to-server calls to sso-bridge: the admin API (sync), POST /logout and the token API.
 *
 * Uses wp_remote_request, not wp_safe_remote_request: the safe variant refuses loopback and
 * private addresses with a port, which is where sso-bridge often runs beside the site; the URL
 * comes from the settings page (manage_options), never from a visitor.
 *
 * @package SsoBridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * A thin HTTP client: each call returns the status and decoded body, or a WP_Error.
 */
final class SSO_Bridge_Client {

	/** Seconds before a call is given up (then queued for a retry, when it is a sync). */
	const TIMEOUT = 15;

	/**
	 * Calls sso-bridge with the API key.
	 *
	 * @param string     $method HTTP method.
	 * @param string     $path   Path under the bridge URL, e.g. /api/v1/users/42.
	 * @param mixed|null $body   JSON body (null for none).
	 * @param int        $timeout Seconds.
	 * @return array{status: int, body: mixed}|WP_Error
	 */
	public static function api( string $method, string $path, $body = null, int $timeout = self::TIMEOUT ) {
		if ( ! SSO_Bridge_Settings::can_sync() ) {
			return new WP_Error( 'sso_bridge_not_configured', __( 'sso-bridge URL or API key not set.', 'sso-bridge' ) );
		}
		$args = array(
			'method'      => $method,
			'timeout'     => $timeout,
			'redirection' => 0,
			'headers'     => array(
				'Authorization' => 'Bearer ' . SSO_Bridge_Settings::secret( 'api_key' ),
				'Accept'        => 'application/json',
			),
		);
		if ( null !== $body ) {
			$args['headers']['Content-Type'] = 'application/json';
			$args['body']                    = wp_json_encode( $body );
		}
		return self::send( SSO_Bridge_Settings::bridge_url() . $path, $args );
	}

	/**
	 * Ends every bridge session of a member (contract §4, server to server).
	 *
	 * @param string $ticket A logout ticket.
	 * @return array{status: int, body: mixed}|WP_Error
	 */
	public static function logout( string $ticket ) {
		return self::send(
			SSO_Bridge_Settings::bridge_url() . '/logout',
			array(
				'method'      => 'POST',
				'timeout'     => self::TIMEOUT,
				'redirection' => 0,
				'body'        => array( 'ticket' => $ticket ),
			)
		);
	}

	/**
	 * Sends a request; never lets a secret reach an error message.
	 *
	 * @param string               $url  Absolute URL.
	 * @param array<string, mixed> $args wp_remote_request arguments.
	 * @return array{status: int, body: mixed}|WP_Error
	 */
	private static function send( string $url, array $args ) {
		$response = wp_remote_request( $url, $args );
		if ( is_wp_error( $response ) ) {
			return new WP_Error( 'sso_bridge_unreachable', __( 'sso-bridge did not answer.', 'sso-bridge' ) . ' ' . $response->get_error_message() );
		}
		$raw = wp_remote_retrieve_body( $response );
		return array(
			'status' => (int) wp_remote_retrieve_response_code( $response ),
			'body'   => '' === $raw ? null : json_decode( $raw, true ),
		);
	}

	/**
	 * A short, safe description of a failed answer: its stable error code and status.
	 *
	 * @param array{status: int, body: mixed}|WP_Error $result What a call returned.
	 */
	public static function describe( $result ): string {
		if ( is_wp_error( $result ) ) {
			return $result->get_error_message();
		}
		$code = is_array( $result['body'] ) && isset( $result['body']['error'] ) ? (string) $result['body']['error'] : 'http_error';
		return sprintf( '%s (HTTP %d)', $code, $result['status'] );
	}
}
