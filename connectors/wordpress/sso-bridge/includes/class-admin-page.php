<?php
/**
 * Settings → sso-bridge: the connection, the secrets (write-only: set / replace / clear), the
 * role → rank map, the field map, the values to put in sso-bridge's .env, the sync queue and
 * "Sync all users now". Every form carries a nonce and every handler checks manage_options.
 *
 * @package SsoBridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * The settings page and its handlers.
 */
final class SSO_Bridge_Admin_Page {

	const SLUG = 'sso-bridge';

	/**
	 * Hooks into WordPress.
	 */
	public static function register(): void {
		add_action( 'admin_menu', array( self::class, 'menu' ) );
		add_action( 'admin_post_sso_bridge_save', array( self::class, 'save' ) );
		add_action( 'admin_post_sso_bridge_retry', array( self::class, 'retry' ) );
		add_action( 'wp_ajax_sso_bridge_sync_batch', array( self::class, 'sync_batch' ) );
		add_action( 'admin_enqueue_scripts', array( self::class, 'scripts' ) );
	}

	/**
	 * Adds the page under Settings.
	 */
	public static function menu(): void {
		add_options_page( __( 'sso-bridge', 'sso-bridge' ), __( 'sso-bridge', 'sso-bridge' ), 'manage_options', self::SLUG, array( self::class, 'render' ) );
	}

	/**
	 * The page's own script (the sync-all progress), on this page only.
	 *
	 * @param string $hook The admin page's hook suffix.
	 */
	public static function scripts( string $hook ): void {
		if ( 'settings_page_' . self::SLUG !== $hook ) {
			return;
		}
		wp_enqueue_script( 'sso-bridge-admin', plugins_url( 'assets/admin.js', SSO_BRIDGE_FILE ), array(), SSO_BRIDGE_VERSION, true );
		wp_localize_script(
			'sso-bridge-admin',
			'ssoBridgeSync',
			array(
				'url'   => admin_url( 'admin-ajax.php' ),
				'nonce' => wp_create_nonce( 'sso_bridge_sync_all' ),
			)
		);
	}

	/**
	 * Refuses anyone who may not manage options (a 403 page).
	 */
	private static function require_capability(): void {
		if ( ! current_user_can( 'manage_options' ) ) {
			wp_die( esc_html__( 'You are not allowed to change the sso-bridge settings.', 'sso-bridge' ), 403 );
		}
	}

	/**
	 * Saves the settings form (admin-post.php).
	 */
	public static function save(): void {
		self::require_capability();
		check_admin_referer( 'sso_bridge_save' );
		$input = wp_unslash( $_POST ); // phpcs:ignore WordPress.Security.ValidatedSanitizedInput.InputNotSanitized -- validated field by field in SSO_Bridge_Settings::validate and below.
		list( $settings, $errors ) = SSO_Bridge_Settings::validate( is_array( $input ) ? $input : array() );

		$secrets = array();
		$clear   = is_array( $input['clear'] ?? null ) ? $input['clear'] : array();
		$given   = is_array( $input['secret'] ?? null ) ? $input['secret'] : array();
		foreach ( array_keys( SSO_Bridge_Settings::SECRETS ) as $name ) {
			if ( ! empty( $clear[ $name ] ) ) {
				$secrets[ $name ] = null;
				continue;
			}
			$value = trim( is_string( $given[ $name ] ?? null ) ? $given[ $name ] : '' );
			if ( '' === $value ) {
				continue; // Empty: keep what is set.
			}
			$problem = self::check_secret( $name, $value );
			if ( null === $problem ) {
				$secrets[ $name ] = $value;
			} else {
				$errors[] = $problem;
			}
		}

		if ( ! $errors ) {
			update_option( SSO_Bridge_Settings::OPTION, $settings );
			foreach ( $secrets as $name => $value ) {
				SSO_Bridge_Settings::set_secret( $name, $value );
			}
		}
		set_transient( 'sso_bridge_notice_' . get_current_user_id(), $errors ? $errors : array( '' ), 60 );
		wp_safe_redirect( admin_url( 'options-general.php?page=' . self::SLUG ) );
		exit;
	}

	/**
	 * Why a new secret value is refused, or null (never echoes the value).
	 *
	 * @param string $name  The secret's name.
	 * @param string $value Its new value.
	 */
	private static function check_secret( string $name, string $value ): ?string {
		switch ( $name ) {
			case 'ticket_secret':
				return strlen( $value ) >= 32 ? null : __( 'The ticket secret must be at least 32 bytes (sso-bridge refuses shorter ones); e.g. openssl rand -base64 32.', 'sso-bridge' );
			case 'api_key':
				return strlen( $value ) >= 24 && ! preg_match( '/\s/', $value ) ? null : __( 'The API key must be at least 24 characters without spaces (sso-bridge\'s ADMIN_TOKEN).', 'sso-bridge' );
			case 'private_key':
				$key     = openssl_pkey_get_private( $value );
				$details = false === $key ? false : openssl_pkey_get_details( $key );
				return is_array( $details ) && OPENSSL_KEYTYPE_RSA === $details['type'] && $details['bits'] >= 2048 ? null : __( 'The private key must be an RSA private key of 2048 bits or more, in PEM.', 'sso-bridge' );
		}
		return null;
	}

	/**
	 * Retries the sync queue now (admin-post.php).
	 */
	public static function retry(): void {
		self::require_capability();
		check_admin_referer( 'sso_bridge_retry' );
		SSO_Bridge_Sync::retry();
		wp_safe_redirect( admin_url( 'options-general.php?page=' . self::SLUG ) );
		exit;
	}

	/**
	 * One batch of "Sync all users now" (admin-ajax.php).
	 */
	public static function sync_batch(): void {
		if ( ! current_user_can( 'manage_options' ) ) {
			wp_send_json_error( array( 'error' => 'forbidden' ), 403 );
		}
		check_ajax_referer( 'sso_bridge_sync_all' );
		if ( ! SSO_Bridge_Settings::can_sync() ) {
			wp_send_json_error( array( 'error' => __( 'Set the sso-bridge URL and API key first.', 'sso-bridge' ) ), 400 );
		}
		$offset = isset( $_POST['offset'] ) ? absint( $_POST['offset'] ) : 0;
		$report = SSO_Bridge_Sync::import_batch( $offset );
		if ( is_wp_error( $report ) ) {
			wp_send_json_error( array( 'error' => $report->get_error_message() ), 502 );
		}
		wp_send_json_success( $report );
	}

	/**
	 * The public key matching the configured private key (what SITE_TICKET_PUBLIC_KEY takes).
	 */
	private static function public_key(): ?string {
		$pem = SSO_Bridge_Settings::secret( 'private_key' );
		$key = '' === $pem ? false : openssl_pkey_get_private( $pem );
		$det = false === $key ? false : openssl_pkey_get_details( $key );
		return is_array( $det ) ? $det['key'] : null;
	}

	/**
	 * This site's origin (what SITE_ORIGINS takes).
	 */
	private static function site_origin(): string {
		$home = wp_parse_url( home_url() );
		return $home['scheme'] . '://' . $home['host'] . ( isset( $home['port'] ) ? ':' . $home['port'] : '' );
	}

	/**
	 * Renders the page.
	 */
	public static function render(): void {
		self::require_capability();
		$settings = SSO_Bridge_Settings::get();
		$notice   = get_transient( 'sso_bridge_notice_' . get_current_user_id() );
		delete_transient( 'sso_bridge_notice_' . get_current_user_id() );
		$queue = SSO_Bridge_Sync::queue();
		$env   = array(
			'SITE_LOGIN_URL'  => SSO_Bridge_Handoff::endpoint_url(),
			'SITE_ORIGINS'    => self::site_origin(),
			'SITE_LOGOUT_URL' => site_url( 'wp-login.php?action=logout' ),
		);
		?>
<div class="wrap">
<h1><?php esc_html_e( 'sso-bridge', 'sso-bridge' ); ?></h1>
		<?php if ( is_array( $notice ) ) : ?>
			<?php if ( array( '' ) === $notice ) : ?>
<div class="notice notice-success"><p><?php esc_html_e( 'Settings saved.', 'sso-bridge' ); ?></p></div>
			<?php else : ?>
<div class="notice notice-error" role="alert"><p><?php esc_html_e( 'Nothing was saved:', 'sso-bridge' ); ?></p><ul>
				<?php foreach ( $notice as $error ) : ?>
<li><?php echo esc_html( $error ); ?></li>
				<?php endforeach; ?>
</ul></div>
			<?php endif; ?>
		<?php endif; ?>

<h2><?php esc_html_e( 'For sso-bridge\'s .env', 'sso-bridge' ); ?></h2>
<p><?php esc_html_e( 'Put these values in sso-bridge\'s configuration so that it hands sign-ins to this site:', 'sso-bridge' ); ?></p>
<pre id="sso-bridge-env">
		<?php
		foreach ( $env as $key => $value ) {
			echo esc_html( $key . '=' . $value ) . "\n";
		}
		if ( 'RS256' === $settings['algorithm'] ) {
			$public = self::public_key();
			echo esc_html( 'SITE_TICKET_PUBLIC_KEY=' . ( null === $public ? __( '(set a private key below)', 'sso-bridge' ) : '"' . trim( $public ) . '"' ) ) . "\n";
		} else {
			echo esc_html( 'SITE_TICKET_SECRET=' . __( '(the ticket secret you set below)', 'sso-bridge' ) ) . "\n";
		}
		?>
</pre>

<form method="post" action="<?php echo esc_url( admin_url( 'admin-post.php' ) ); ?>">
<input type="hidden" name="action" value="sso_bridge_save">
		<?php wp_nonce_field( 'sso_bridge_save' ); ?>
<table class="form-table" role="presentation">
<tr><th scope="row"><label for="sso-bridge-url"><?php esc_html_e( 'sso-bridge URL', 'sso-bridge' ); ?></label></th>
<td><input type="url" class="regular-text" id="sso-bridge-url" name="bridge_url" value="<?php echo esc_attr( $settings['bridge_url'] ); ?>" placeholder="https://sso.example.com">
<p class="description"><?php esc_html_e( 'sso-bridge\'s ISSUER.', 'sso-bridge' ); ?></p></td></tr>
<tr><th scope="row"><label for="sso-bridge-algorithm"><?php esc_html_e( 'Ticket signing', 'sso-bridge' ); ?></label></th>
<td><select id="sso-bridge-algorithm" name="algorithm">
<option value="HS256" <?php selected( $settings['algorithm'], 'HS256' ); ?>><?php esc_html_e( 'HS256 with the ticket secret (SITE_TICKET_SECRET)', 'sso-bridge' ); ?></option>
<option value="RS256" <?php selected( $settings['algorithm'], 'RS256' ); ?>><?php esc_html_e( 'RS256 with a private key (SITE_TICKET_PUBLIC_KEY)', 'sso-bridge' ); ?></option>
</select></td></tr>
		<?php
		self::secret_row( 'ticket_secret', __( 'Ticket secret', 'sso-bridge' ), __( 'The same value as sso-bridge\'s SITE_TICKET_SECRET, 32 bytes or more.', 'sso-bridge' ) );
		self::secret_row( 'private_key', __( 'Private key (RS256)', 'sso-bridge' ), __( 'An RSA private key in PEM (2048 bits or more); sso-bridge gets the public key shown above.', 'sso-bridge' ) );
		self::secret_row( 'api_key', __( 'API key (sync)', 'sso-bridge' ), __( 'sso-bridge\'s ADMIN_TOKEN: the sync writes accounts through its admin API. An integration\'s own api_key only serves that integration\'s embeds.', 'sso-bridge' ) );
		?>
<tr><th scope="row"><?php esc_html_e( 'Sign-in freshness', 'sso-bridge' ); ?></th>
<td><label><input type="checkbox" name="send_auth_time" value="1" <?php checked( $settings['send_auth_time'] ); ?>> <?php esc_html_e( 'Send auth_time in tickets (when the member last entered their password here; needed for forced re-authentication). Untick only for an sso-bridge older than the hand-off, which refuses the claim.', 'sso-bridge' ); ?></label></td></tr>
<tr><th scope="row"><?php esc_html_e( 'Email', 'sso-bridge' ); ?></th>
<td><label><input type="checkbox" name="email_verified" value="1" <?php checked( $settings['email_verified'] ); ?>> <?php esc_html_e( 'This site verifies members\' email addresses (sent as email_verified)', 'sso-bridge' ); ?></label></td></tr>
</table>

<h2><?php esc_html_e( 'Roles and ranks', 'sso-bridge' ); ?></h2>
<table class="form-table" role="presentation">
		<?php foreach ( wp_roles()->role_names as $role => $role_name ) : ?>
<tr><th scope="row"><label for="sso-bridge-rank-<?php echo esc_attr( $role ); ?>"><?php echo esc_html( translate_user_role( $role_name ) ); ?></label></th>
<td><select id="sso-bridge-rank-<?php echo esc_attr( $role ); ?>" name="rank_map[<?php echo esc_attr( $role ); ?>]">
			<?php foreach ( SSO_Bridge_Settings::RANKS as $rank ) : ?>
<option value="<?php echo esc_attr( $rank ); ?>" <?php selected( $settings['rank_map'][ $role ] ?? $settings['default_rank'], $rank ); ?>><?php echo esc_html( $rank ); ?></option>
			<?php endforeach; ?>
</select></td></tr>
		<?php endforeach; ?>
</table>

<h2><?php esc_html_e( 'Account fields', 'sso-bridge' ); ?></h2>
<p><?php esc_html_e( 'Which user field or meta key fills each account field (empty: not sent). picture also takes "avatar" (get_avatar_url).', 'sso-bridge' ); ?></p>
<table class="form-table" role="presentation">
		<?php foreach ( SSO_Bridge_Settings::MAPPED_FIELDS as $field ) : ?>
<tr><th scope="row"><label for="sso-bridge-field-<?php echo esc_attr( $field ); ?>"><?php echo esc_html( $field ); ?></label></th>
<td><input type="text" class="regular-text" id="sso-bridge-field-<?php echo esc_attr( $field ); ?>" name="fields[<?php echo esc_attr( $field ); ?>]" value="<?php echo esc_attr( $settings['fields'][ $field ] ); ?>"></td></tr>
		<?php endforeach; ?>
<tr><th scope="row"><label for="sso-bridge-profile"><?php esc_html_e( 'profile', 'sso-bridge' ); ?></label></th>
<td><input type="text" class="regular-text" id="sso-bridge-profile" name="profile_fields" value="<?php echo esc_attr( implode( ', ', $settings['profile_fields'] ) ); ?>" placeholder="description, user_url">
<p class="description"><?php esc_html_e( 'Comma-separated user fields or meta keys, sent in the account\'s profile object.', 'sso-bridge' ); ?></p></td></tr>
</table>
		<?php submit_button( __( 'Save settings', 'sso-bridge' ) ); ?>
</form>

<h2><?php esc_html_e( 'Sync', 'sso-bridge' ); ?></h2>
<p><?php esc_html_e( 'New, changed and deleted users reach sso-bridge at once. Calls that failed are retried every five minutes and on your next admin page.', 'sso-bridge' ); ?></p>
		<?php if ( $queue ) : ?>
<table class="widefat striped" id="sso-bridge-queue">
<caption><?php esc_html_e( 'Waiting for a retry', 'sso-bridge' ); ?></caption>
<thead><tr><th scope="col"><?php esc_html_e( 'User ID', 'sso-bridge' ); ?></th><th scope="col"><?php esc_html_e( 'Operation', 'sso-bridge' ); ?></th><th scope="col"><?php esc_html_e( 'Attempts', 'sso-bridge' ); ?></th><th scope="col"><?php esc_html_e( 'Last attempt', 'sso-bridge' ); ?></th><th scope="col"><?php esc_html_e( 'Error', 'sso-bridge' ); ?></th></tr></thead>
<tbody>
			<?php foreach ( $queue as $user_id => $entry ) : ?>
<tr><td><?php echo esc_html( (string) $user_id ); ?></td><td><?php echo esc_html( $entry['op'] ); ?></td><td><?php echo esc_html( (string) $entry['attempts'] ); ?></td><td><?php echo esc_html( wp_date( 'Y-m-d H:i:s', $entry['at'] ) ); ?></td><td><?php echo esc_html( $entry['error'] ); ?></td></tr>
			<?php endforeach; ?>
</tbody>
</table>
<form method="post" action="<?php echo esc_url( admin_url( 'admin-post.php' ) ); ?>">
<input type="hidden" name="action" value="sso_bridge_retry">
			<?php wp_nonce_field( 'sso_bridge_retry' ); ?>
			<?php submit_button( __( 'Retry now', 'sso-bridge' ), 'secondary', 'submit', false ); ?>
</form>
		<?php else : ?>
<p id="sso-bridge-queue-empty"><?php esc_html_e( 'Nothing is waiting for a retry.', 'sso-bridge' ); ?></p>
		<?php endif; ?>
<p><button type="button" class="button button-primary" id="sso-bridge-sync-all"><?php esc_html_e( 'Sync all users now', 'sso-bridge' ); ?></button></p>
<p><progress id="sso-bridge-sync-progress" max="1" value="0" hidden></progress> <span id="sso-bridge-sync-status" role="status" aria-live="polite"></span></p>
</div>
		<?php
	}

	/**
	 * A write-only secret: whether it is set, a field to replace it, a box to clear it.
	 *
	 * @param string $name        The secret's name.
	 * @param string $label       Its label.
	 * @param string $description What it is.
	 */
	private static function secret_row( string $name, string $label, string $description ): void {
		$id  = 'sso-bridge-' . str_replace( '_', '-', $name );
		$set = SSO_Bridge_Settings::has_secret( $name );
		?>
<tr><th scope="row"><label for="<?php echo esc_attr( $id ); ?>"><?php echo esc_html( $label ); ?></label></th>
<td><p><strong class="sso-bridge-secret-state" data-secret="<?php echo esc_attr( $name ); ?>"><?php echo $set ? esc_html__( 'set', 'sso-bridge' ) : esc_html__( 'not set', 'sso-bridge' ); ?></strong></p>
		<?php if ( 'private_key' === $name ) : ?>
<textarea id="<?php echo esc_attr( $id ); ?>" name="secret[<?php echo esc_attr( $name ); ?>]" rows="4" cols="64" autocomplete="off" spellcheck="false" placeholder="<?php echo esc_attr( $set ? __( 'Paste a new key to replace it', 'sso-bridge' ) : __( 'Paste a PEM private key (RSA, 2048 bits or more)', 'sso-bridge' ) ); ?>"></textarea>
		<?php else : ?>
<input type="password" class="regular-text" id="<?php echo esc_attr( $id ); ?>" name="secret[<?php echo esc_attr( $name ); ?>]" value="" autocomplete="new-password" placeholder="<?php echo esc_attr( $set ? __( 'Type a new value to replace it', 'sso-bridge' ) : '' ); ?>">
		<?php endif; ?>
		<?php if ( $set ) : ?>
<label><input type="checkbox" name="clear[<?php echo esc_attr( $name ); ?>]" value="1"> <?php esc_html_e( 'Clear', 'sso-bridge' ); ?></label>
		<?php endif; ?>
<p class="description"><?php echo esc_html( $description ); ?></p></td></tr>
		<?php
	}
}
