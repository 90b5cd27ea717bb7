<?php
/**
 * `[sso_bridge_embed integration="…" label="…"]`: the platform's embed for the signed-in member,
 * from sso-bridge's token API, server to server (README "Platform tokens"): Minnit's zero-click
 * iframe, BoostGPT's widget, Dead Simple Chat's iframe, a MeltingSpot link.
 *
 * @package SsoBridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * The shortcode.
 */
final class SSO_Bridge_Embed {

	/**
	 * Hooks into WordPress.
	 */
	public static function register(): void {
		add_shortcode( 'sso_bridge_embed', array( self::class, 'render' ) );
		add_action( 'init', array( self::class, 'register_block' ) );
	}

	/**
	 * The same embed as a dynamic block, `sso-bridge/embed`, rendered on the server by the
	 * shortcode's code (assets/block.js gives the editor its settings and a server-side preview).
	 */
	public static function register_block(): void {
		wp_register_script( 'sso-bridge-block', plugins_url( 'assets/block.js', SSO_BRIDGE_FILE ), array( 'wp-blocks', 'wp-element', 'wp-components', 'wp-block-editor', 'wp-server-side-render' ), SSO_BRIDGE_VERSION, true );
		register_block_type(
			'sso-bridge/embed',
			array(
				'api_version'     => 2,
				'editor_script'   => 'sso-bridge-block',
				'attributes'      => array(
					'integration' => array(
						'type'    => 'string',
						'default' => '',
					),
					'label'       => array(
						'type'    => 'string',
						'default' => '',
					),
				),
				'render_callback' => array( self::class, 'render_block' ),
			)
		);
	}

	/**
	 * Renders the block.
	 *
	 * @param array<string, mixed> $attributes The block's attributes.
	 */
	public static function render_block( $attributes ): string {
		$atts = array( 'integration' => (string) ( $attributes['integration'] ?? '' ) );
		if ( '' !== (string) ( $attributes['label'] ?? '' ) ) {
			$atts['label'] = (string) $attributes['label'];
		}
		return self::render( $atts );
	}

	/**
	 * What the embed markup may hold: the iframes and the widget script sso-bridge returns.
	 *
	 * @return array<string, array<string, bool>>
	 */
	private static function allowed_html(): array {
		return array(
			'iframe' => array(
				'src'               => true,
				'style'             => true,
				'width'             => true,
				'height'            => true,
				'allowtransparency' => true,
				'allow'             => true,
				'title'             => true,
			),
			'script' => array(
				'src'             => true,
				'data-bot-id'     => true,
				'data-user-token' => true,
			),
		);
	}

	/**
	 * Renders the shortcode.
	 *
	 * @param array<string, string>|string $atts Shortcode attributes.
	 */
	public static function render( $atts ): string {
		$atts        = shortcode_atts(
			array(
				'integration' => '',
				'label'       => __( 'Open the community', 'sso-bridge' ),
			),
			$atts,
			'sso_bridge_embed'
		);
		$integration = (string) $atts['integration'];
		if ( ! preg_match( '/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/', $integration ) ) {
			return self::notice( __( 'sso-bridge: the shortcode needs integration="<id>".', 'sso-bridge' ) );
		}
		if ( ! is_user_logged_in() ) {
			return '<p class="sso-bridge-embed sso-bridge-login"><a href="' . esc_url( wp_login_url( get_permalink() ? get_permalink() : home_url( '/' ) ) ) . '">' . esc_html__( 'Sign in to join', 'sso-bridge' ) . '</a></p>';
		}
		$user_id = get_current_user_id();
		$path    = '/api/v1/integrations/' . rawurlencode( $integration ) . '/tokens';
		$result  = SSO_Bridge_Client::api( 'POST', $path, array( 'external_id' => (string) $user_id ) );
		if ( ! is_wp_error( $result ) && 404 === $result['status'] && 'user_not_found' === ( $result['body']['error'] ?? '' ) && SSO_Bridge_Sync::put( $user_id ) ) {
			// The member joined before sync was set up: send the account, then ask again.
			$result = SSO_Bridge_Client::api( 'POST', $path, array( 'external_id' => (string) $user_id ) );
		}
		if ( is_wp_error( $result ) || 200 !== $result['status'] || ! is_array( $result['body'] ) ) {
			return self::notice( __( 'The chat is not available right now.', 'sso-bridge' ) . ' (' . SSO_Bridge_Client::describe( $result ) . ')' );
		}
		$body = $result['body'];
		if ( ! empty( $body['html'] ) && is_string( $body['html'] ) ) {
			return '<div class="sso-bridge-embed">' . wp_kses( $body['html'], self::allowed_html() ) . '</div>';
		}
		if ( ! empty( $body['url'] ) && is_string( $body['url'] ) ) {
			return '<p class="sso-bridge-embed"><a href="' . esc_url( $body['url'] ) . '">' . esc_html( (string) $atts['label'] ) . '</a></p>';
		}
		return self::notice( __( 'This integration has nothing to embed.', 'sso-bridge' ) );
	}

	/**
	 * A notice in place of the embed.
	 *
	 * @param string $text The notice.
	 */
	private static function notice( string $text ): string {
		return '<p class="sso-bridge-embed sso-bridge-notice">' . esc_html( $text ) . '</p>';
	}
}
