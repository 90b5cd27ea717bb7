<?php
/**
 * Plugin Name:       sso-bridge
 * Plugin URI:        https://github.com/sso-bridge/sso-bridge
 * Description:       Signs this site's members into sso-bridge (and every chat and community platform behind it) with WordPress as the authority: the login hand-off, account sync, logout and platform embeds.
 * Version:           0.1.0
 * Requires at least: 6.1
 * Requires PHP:      8.2
 * License:           MIT
 * Text Domain:       sso-bridge
 *
 * @package SsoBridge
 */

defined( 'ABSPATH' ) || exit;

define( 'SSO_BRIDGE_VERSION', '0.1.0' );
define( 'SSO_BRIDGE_FILE', __FILE__ );
define( 'SSO_BRIDGE_DIR', __DIR__ . '/' );

require_once SSO_BRIDGE_DIR . 'includes/class-settings.php';
require_once SSO_BRIDGE_DIR . 'includes/class-jwt.php';
require_once SSO_BRIDGE_DIR . 'includes/class-client.php';
require_once SSO_BRIDGE_DIR . 'includes/class-account.php';
require_once SSO_BRIDGE_DIR . 'includes/class-sync.php';
require_once SSO_BRIDGE_DIR . 'includes/class-handoff.php';
require_once SSO_BRIDGE_DIR . 'includes/class-logout.php';
require_once SSO_BRIDGE_DIR . 'includes/class-embed.php';
require_once SSO_BRIDGE_DIR . 'includes/class-admin-page.php';

SSO_Bridge_Sync::register();
SSO_Bridge_Handoff::register();
SSO_Bridge_Logout::register();
SSO_Bridge_Embed::register();
SSO_Bridge_Admin_Page::register();

register_activation_hook( __FILE__, array( 'SSO_Bridge_Sync', 'activate' ) );
register_deactivation_hook( __FILE__, array( 'SSO_Bridge_Sync', 'deactivate' ) );
