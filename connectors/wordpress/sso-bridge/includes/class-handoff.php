<?php
/**
 * The login hand-off endpoint that sso-bridge's SITE_LOGIN_URL points to (contract §2):
 * `{home}/?sso_bridge=login&return_to=…[&force=1]`.
 *
 * 1. `return_to` must be an absolute http(s) URL on sso-bridge's own origin; anything else is
 *    refused with a page, and nothing happens.
 * 2. A member not signed in goes through WordPress's own login and comes back here; with
 *    `force=1` the member must enter their credentials again now (`reauth`), whatever the
 *    current session.
 * 3. Then the member's ticket (with `auth_time`, the login time of the current session token)
 *    is auto-submitted to `{bridge}/ticket` with `return_to` unchanged, from this site's page
 *    (its origin is in SITE_ORIGINS; its referrer policy is not no-referrer).
 *
 * @package SsoBridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * The hand-off endpoint.
 */
final class SSO_Bridge_Handoff {

	/** Seconds of clock skew the force check allows between the hand-off and the new login. */
	const SKEW = 5;

	/**
	 * Hooks into WordPress.
	 */
	public static function register(): void {
		add_action( 'init', array( self::class, 'maybe_handle' ), 20 );
	}

	/**
	 * The URL to put in sso-bridge's SITE_LOGIN_URL.
	 */
	public static function endpoint_url(): string {
		return add_query_arg( 'sso_bridge', 'login', home_url( '/' ) );
	}

	/**
	 * Handles `?sso_bridge=login`; any other request is left alone.
	 */
	public static function maybe_handle(): void {
		// phpcs:disable WordPress.Security.NonceVerification.Recommended -- a cross-site entry point by design (contract §2); it changes nothing on this site.
		if ( ! isset( $_GET['sso_bridge'] ) || 'login' !== $_GET['sso_bridge'] ) {
			return;
		}
		nocache_headers();
		header( 'X-Frame-Options: DENY' );
		header( 'Referrer-Policy: strict-origin-when-cross-origin' );

		if ( ! SSO_Bridge_Settings::can_sign() ) {
			self::refuse( 503, 'not_configured', __( 'Single sign-on is not set up on this site yet.', 'sso-bridge' ) );
		}
		$return_to = isset( $_GET['return_to'] ) && is_string( $_GET['return_to'] ) ? wp_unslash( $_GET['return_to'] ) : '';
		if ( ! self::is_bridge_url( $return_to ) ) {
			self::refuse( 400, 'return_to_invalid', __( 'This sign-in link is not valid: it does not lead back to the sign-in service. Go back and try again.', 'sso-bridge' ) );
		}
		$force = isset( $_GET['force'] ) && '1' === $_GET['force'];
		$since = isset( $_GET['since'] ) ? absint( $_GET['since'] ) : 0;
		// phpcs:enable

		if ( ! is_user_logged_in() ) {
			// After the login the member comes back here; a forced hand-off is then satisfied.
			wp_safe_redirect( wp_login_url( self::back_url( $return_to, $force ? time() : null ) ) );
			exit;
		}
		$auth_time = self::session_login_time();
		if ( $force && ( 0 === $since || null === $auth_time || $auth_time < $since - self::SKEW ) ) {
			// Reauth: WordPress clears the session and asks for the password again. `since` only
			// spares a second round trip; sso-bridge checks auth_time itself (contract §3).
			wp_safe_redirect( wp_login_url( self::back_url( $return_to, time() ), true ) );
			exit;
		}

		try {
			// An sso-bridge older than the hand-off refuses the auth_time claim (unknown claims are
			// refused); the setting lets such a server take the tickets, without force=1 support.
			$send   = SSO_Bridge_Settings::get()['send_auth_time'] ? $auth_time : null;
			$ticket = SSO_Bridge_Jwt::sign_in_ticket( SSO_Bridge_Account::from_user( wp_get_current_user() ), $send );
		} catch ( Throwable $e ) {
			self::refuse( 503, 'not_configured', __( 'Single sign-on is not set up correctly on this site.', 'sso-bridge' ) );
		}
		self::render_form( $ticket, $return_to );
		exit;
	}

	/**
	 * Whether `$url` is an absolute http(s) URL on sso-bridge's origin, without credentials,
	 * whitespace, backslashes or control characters.
	 *
	 * @param string $url The return_to received.
	 */
	public static function is_bridge_url( string $url ): bool {
		if ( '' === $url || strlen( $url ) > 4096 || preg_match( '/[\x00-\x20\x7f\\\\]/', $url ) ) {
			return false;
		}
		$parts  = wp_parse_url( $url );
		$bridge = wp_parse_url( SSO_Bridge_Settings::bridge_url() );
		if ( ! is_array( $parts ) || ! is_array( $bridge ) || isset( $parts['user'] ) || isset( $parts['pass'] ) ) {
			return false;
		}
		$origin = static function ( array $p ): string {
			$scheme = strtolower( $p['scheme'] ?? '' );
			$port   = $p['port'] ?? ( 'https' === $scheme ? 443 : 80 );
			return $scheme . '://' . strtolower( $p['host'] ?? '' ) . ':' . $port;
		};
		return in_array( strtolower( $parts['scheme'] ?? '' ), array( 'http', 'https' ), true )
			&& isset( $parts['host'] )
			&& $origin( $parts ) === $origin( $bridge );
	}

	/**
	 * When the member last entered credentials: the current session token's `login` time.
	 */
	public static function session_login_time(): ?int {
		$token = wp_get_session_token();
		if ( '' === $token ) {
			return null;
		}
		$session = WP_Session_Tokens::get_instance( get_current_user_id() )->get( $token );
		return is_array( $session ) && isset( $session['login'] ) ? (int) $session['login'] : null;
	}

	/**
	 * This endpoint again, for after WordPress's login.
	 *
	 * @param string   $return_to The return_to received.
	 * @param int|null $since     For a forced hand-off: the time the reauth began.
	 */
	private static function back_url( string $return_to, ?int $since ): string {
		$query = array(
			'sso_bridge' => 'login',
			'return_to'  => $return_to,
		);
		if ( null !== $since ) {
			$query['force'] = '1';
			$query['since'] = $since;
		}
		return home_url( '/' ) . '?' . http_build_query( $query, '', '&', PHP_QUERY_RFC3986 );
	}

	/**
	 * The page that posts the ticket to sso-bridge at once (a button without JavaScript).
	 *
	 * @param string $ticket    The signed ticket.
	 * @param string $return_to The return_to received, unchanged.
	 */
	private static function render_form( string $ticket, string $return_to ): void {
		status_header( 200 );
		header( 'Content-Type: text/html; charset=utf-8' );
		$action = SSO_Bridge_Settings::bridge_url() . '/ticket';
		?>
<!doctype html>
<html <?php language_attributes(); ?>>
<head>
<meta charset="utf-8">
<meta name="robots" content="noindex">
<title><?php esc_html_e( 'Signing you in…', 'sso-bridge' ); ?></title>
</head>
<body>
<form id="sso-bridge-handoff" method="post" action="<?php echo esc_url( $action ); ?>">
<input type="hidden" name="ticket" value="<?php echo esc_attr( $ticket ); ?>">
<input type="hidden" name="return_to" value="<?php echo esc_attr( $return_to ); ?>">
<p><?php esc_html_e( 'Signing you in…', 'sso-bridge' ); ?></p>
<noscript><button type="submit"><?php esc_html_e( 'Continue', 'sso-bridge' ); ?></button></noscript>
</form>
<script>document.getElementById('sso-bridge-handoff').submit();</script>
</body>
</html>
		<?php
	}

	/**
	 * A refusal: a clear page with a stable code, and nothing else happens.
	 *
	 * @param int    $status  HTTP status.
	 * @param string $code    Stable code (shown, for support).
	 * @param string $message What the member reads.
	 * @return never
	 */
	private static function refuse( int $status, string $code, string $message ): void {
		wp_die(
			'<h1>' . esc_html__( 'Sign-in refused', 'sso-bridge' ) . '</h1><p>' . esc_html( $message ) . '</p><p><code>' . esc_html( $code ) . '</code></p>',
			esc_html__( 'Sign-in refused', 'sso-bridge' ),
			array( 'response' => $status )
		);
	}
}
