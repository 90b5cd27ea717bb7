<?php
/**
 * Keeps sso-bridge's accounts current from WordPress's hooks (contract §6): a change reaches
 * sso-bridge when it happens, through its admin API. A call that fails is queued and retried
 * (wp-cron every five minutes, and on an administrator's next admin page), and the queue is
 * shown in the settings page. "Sync all users now" imports every user in batches.
 *
 * `wp_login` is not hooked: sso-bridge's account has no last-seen field to refresh.
 *
 * @package SsoBridge
 */

defined( 'ABSPATH' ) || exit;

/**
 * The sync hooks, the retry queue and the bulk import.
 */
final class SSO_Bridge_Sync {

	const QUEUE      = 'sso_bridge_sync_queue';
	const CRON_HOOK  = 'sso_bridge_retry';
	const BATCH_SIZE = 200;

	/** Entries one retry run sends at most (the rest wait for the next run). */
	const RETRY_BATCH = 50;

	/**
	 * What this request already sent, per user: a user saved twice in one request (role and
	 * profile hooks both fire) is sent once.
	 *
	 * @var array<int, string>
	 */
	private static array $sent = array();

	/**
	 * Hooks into WordPress.
	 */
	public static function register(): void {
		add_action( 'user_register', array( self::class, 'on_change' ), 20 );
		add_action( 'profile_update', array( self::class, 'on_change' ), 20 );
		add_action( 'set_user_role', array( self::class, 'on_change' ), 20 );
		// deleted_user, not delete_user: it fires once the user is really gone, so a deletion
		// that fails half-way never removes the member from sso-bridge.
		add_action( 'deleted_user', array( self::class, 'on_delete' ), 20 );
		add_filter( 'cron_schedules', array( self::class, 'cron_schedules' ) );
		add_action( self::CRON_HOOK, array( self::class, 'retry' ) );
		add_action( 'admin_init', array( self::class, 'retry_on_admin_page' ) );
	}

	/**
	 * Plugin activation: schedule the retries.
	 */
	public static function activate(): void {
		if ( ! wp_next_scheduled( self::CRON_HOOK ) ) {
			wp_schedule_event( time() + 300, 'sso_bridge_five_minutes', self::CRON_HOOK );
		}
	}

	/**
	 * Plugin deactivation: stop the retries.
	 */
	public static function deactivate(): void {
		wp_clear_scheduled_hook( self::CRON_HOOK );
	}

	/**
	 * Adds the five-minute schedule.
	 *
	 * @param array<string, array<string, mixed>> $schedules WordPress's schedules.
	 * @return array<string, array<string, mixed>>
	 */
	public static function cron_schedules( array $schedules ): array {
		$schedules['sso_bridge_five_minutes'] = array(
			'interval' => 300,
			'display'  => __( 'Every five minutes (sso-bridge sync retries)', 'sso-bridge' ),
		);
		return $schedules;
	}

	/**
	 * A user was created or changed: send the account.
	 *
	 * @param int|string $user_id The user's ID.
	 */
	public static function on_change( $user_id ): void {
		if ( SSO_Bridge_Settings::can_sync() ) {
			self::put( (int) $user_id );
		}
	}

	/**
	 * A user was deleted: delete the account (every session and token ends in sso-bridge).
	 *
	 * @param int|string $user_id The user's ID.
	 */
	public static function on_delete( $user_id ): void {
		if ( SSO_Bridge_Settings::can_sync() ) {
			self::delete( (int) $user_id );
		}
	}

	/**
	 * PUT /api/v1/users/{id}; queued on failure.
	 *
	 * @param int $user_id The user's ID.
	 * @return bool Whether sso-bridge took it.
	 */
	public static function put( int $user_id ): bool {
		$user = get_userdata( $user_id );
		if ( ! $user ) {
			return false;
		}
		$account = SSO_Bridge_Account::from_user( $user );
		unset( $account['external_id'] );
		$fingerprint = md5( (string) wp_json_encode( $account ) );
		if ( ( self::$sent[ $user_id ] ?? null ) === $fingerprint ) {
			return true;
		}
		$result = SSO_Bridge_Client::api( 'PUT', '/api/v1/users/' . rawurlencode( (string) $user_id ), $account );
		$ok     = ! is_wp_error( $result ) && in_array( $result['status'], array( 200, 201 ), true );
		if ( $ok ) {
			self::$sent[ $user_id ] = $fingerprint;
		}
		self::record( $user_id, 'put', $ok ? null : SSO_Bridge_Client::describe( $result ) );
		return $ok;
	}

	/**
	 * DELETE /api/v1/users/{id}; an account sso-bridge never had counts as deleted.
	 *
	 * @param int $user_id The user's ID.
	 * @return bool Whether sso-bridge no longer has it.
	 */
	public static function delete( int $user_id ): bool {
		unset( self::$sent[ $user_id ] );
		$result = SSO_Bridge_Client::api( 'DELETE', '/api/v1/users/' . rawurlencode( (string) $user_id ) );
		$ok     = ! is_wp_error( $result ) && in_array( $result['status'], array( 204, 404 ), true );
		self::record( $user_id, 'delete', $ok ? null : SSO_Bridge_Client::describe( $result ) );
		return $ok;
	}

	/**
	 * The queue: user ID => what failed, how often, when, and why.
	 *
	 * @return array<int, array{op: string, attempts: int, at: int, error: string}>
	 */
	public static function queue(): array {
		$queue = get_option( self::QUEUE, array() );
		return is_array( $queue ) ? $queue : array();
	}

	/**
	 * Updates the queue after a call: a success removes the user's entry, a failure (re)places
	 * it. The latest operation wins (a delete after a failed update is what is retried).
	 *
	 * @param int         $user_id The user's ID.
	 * @param string      $op      'put' or 'delete'.
	 * @param string|null $error   Why it failed; null on success.
	 */
	private static function record( int $user_id, string $op, ?string $error ): void {
		$queue = self::queue();
		if ( null === $error ) {
			if ( ! isset( $queue[ $user_id ] ) ) {
				return;
			}
			unset( $queue[ $user_id ] );
		} else {
			$queue[ $user_id ] = array(
				'op'       => $op,
				'attempts' => ( $queue[ $user_id ]['attempts'] ?? 0 ) + 1,
				'at'       => time(),
				'error'    => mb_substr( $error, 0, 300 ),
			);
		}
		update_option( self::QUEUE, $queue, false );
	}

	/**
	 * Retries queued calls, oldest first.
	 *
	 * @return int How many entries are still queued.
	 */
	public static function retry(): int {
		if ( ! SSO_Bridge_Settings::can_sync() ) {
			return count( self::queue() );
		}
		$queue = self::queue();
		uasort( $queue, fn( $a, $b ) => $a['at'] <=> $b['at'] );
		foreach ( array_slice( $queue, 0, self::RETRY_BATCH, true ) as $user_id => $entry ) {
			if ( 'delete' === $entry['op'] || ! get_userdata( (int) $user_id ) ) {
				self::delete( (int) $user_id );
			} else {
				self::put( (int) $user_id );
			}
		}
		return count( self::queue() );
	}

	/**
	 * Retries on an administrator's admin page, at most once a minute (sites whose wp-cron
	 * does not run still catch up).
	 */
	public static function retry_on_admin_page(): void {
		if ( wp_doing_ajax() || ! current_user_can( 'manage_options' ) || ! self::queue() || get_transient( 'sso_bridge_retried' ) ) {
			return;
		}
		set_transient( 'sso_bridge_retried', 1, MINUTE_IN_SECONDS );
		self::retry();
	}

	/**
	 * One batch of "Sync all users now": users by ID from `$offset`, sent to the bulk import.
	 *
	 * @param int $offset How many users earlier batches covered.
	 * @return array{done: int, total: int, accepted: int, rejected: array<int, array<string, mixed>>}|WP_Error
	 */
	public static function import_batch( int $offset ) {
		$query = new WP_User_Query(
			array(
				'orderby'     => 'ID',
				'order'       => 'ASC',
				'number'      => self::BATCH_SIZE,
				'offset'      => $offset,
				'count_total' => true,
			)
		);
		$records = array_map( array( SSO_Bridge_Account::class, 'from_user' ), $query->get_results() );
		$report  = array(
			'accepted' => 0,
			'rejected' => array(),
		);
		if ( $records ) {
			$result = SSO_Bridge_Client::api( 'POST', '/api/v1/users/import', $records, 300 );
			if ( is_wp_error( $result ) || 200 !== $result['status'] || ! is_array( $result['body'] ) ) {
				return new WP_Error( 'sso_bridge_import_failed', SSO_Bridge_Client::describe( $result ) );
			}
			$report['accepted'] = (int) ( $result['body']['accepted'] ?? 0 );
			foreach ( (array) ( $result['body']['rejected'] ?? array() ) as $rejected ) {
				$report['rejected'][] = array(
					'external_id' => (string) ( $rejected['external_id'] ?? '' ),
					'error'       => (string) ( $rejected['error'] ?? '' ),
				);
			}
		}
		return array(
			'done'     => $offset + count( $records ),
			'total'    => (int) $query->get_total(),
			'accepted' => $report['accepted'],
			'rejected' => $report['rejected'],
		);
	}
}
