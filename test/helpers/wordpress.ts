/**
 * A real WordPress for the connector's tests, started from Debian's packages in a temp dir:
 * a private MariaDB (own datadir and socket, no TCP), php-fpm (own pool and socket) and nginx
 * (own config, a free loopback port) serving a copy of /usr/share/wordpress with its own
 * wp-config.php; `wp_install()` through php-cli; the plugin from this repository symlinked into
 * wp-content/plugins and activated. Installs nothing: `npm test` installs the packages first (see README
 * Development), and without them {@link startWordPress} throws with the instruction.
 *
 * Every process is started here and stopped by its pid in {@link WordPress.stop}.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { Page } from 'playwright-core'
import { fileURLToPath } from 'node:url'
import { PROCESS_START_TIMEOUT } from './timeouts.ts'

export const WORDPRESS_SOURCE = '/usr/share/wordpress'
export const PLUGIN_DIR = fileURLToPath(
  new URL('../../connectors/wordpress/sso-bridge/', import.meta.url),
)
const BINARIES = {
  'mariadb-install-db': '/usr/bin/mariadb-install-db',
  mariadbd: '/usr/sbin/mariadbd',
  mariadb: '/usr/bin/mariadb',
  'php-fpm8.2': '/usr/sbin/php-fpm8.2',
  nginx: '/usr/sbin/nginx',
  php: '/usr/bin/php',
}
export const WORDPRESS_MISSING =
  'The WordPress test stack is not installed. Install it: `apt-get install -y --no-install-recommends ' +
  'wordpress mariadb-server nginx php-fpm php php-mysql` (npm test does this first: scripts/system-packages.sh). These tests never skip.'

/** What is missing of the stack, empty when everything is there. */
export function missingWordPressStack(): string[] {
  const missing = Object.entries(BINARIES)
    .filter(([, file]) => !existsSync(file))
    .map(([name]) => name)
  if (!existsSync(path.join(WORDPRESS_SOURCE, 'wp-settings.php'))) missing.push('wordpress')
  return missing
}

export const ADMIN_USER = 'admin'
export const ADMIN_PASSWORD = 'wordpress admin password 1'

export interface WordPress {
  /** The site's URL, `http://127.0.0.1:<port>` (no trailing slash). */
  url: string
  dir: string
  /**
   * Runs PHP inside WordPress (wp-load.php already required) through php-cli and returns what
   * `$result` holds at the end, JSON-decoded. Throws with PHP's output when it fails.
   */
  php: <T = unknown>(code: string) => T
  /** The PHP error log of every request (WP_DEBUG_LOG) and of php-fpm's workers. */
  errorLog: () => string
  stop: () => Promise<void>
}

/** A free loopback TCP port (bound and released: the caller binds it at once). */
export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

const asRoot = process.getuid?.() === 0

function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    input,
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: PROCESS_START_TIMEOUT,
    maxBuffer: 64 * 1024 * 1024,
  })
  if (r.status !== 0)
    throw new Error(
      `${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout}${r.stderr}`,
    )
  return r.stdout
}

/** Waits until `check` holds, polling; only a hang limit (PROCESS_START_TIMEOUT). */
async function until(what: string, check: () => boolean, child: ChildProcess, log: () => string) {
  const started = Date.now()
  while (!check()) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}):\n${log()}`)
    if (Date.now() - started > PROCESS_START_TIMEOUT)
      throw new Error(`${what} did not start:\n${log()}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

function tail(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8').slice(-4000) : `(${file} missing)`
}

/**
 * Starts the stack and installs a site with the plugin active.
 * @param options.pluginSettings saved with update_option('sso_bridge_settings') after activation
 */
export async function startWordPress(): Promise<WordPress> {
  const missing = missingWordPressStack()
  if (missing.length) throw new Error(`${WORDPRESS_MISSING} (missing: ${missing.join(', ')})`)

  const dir = mkdtempSync(path.join(tmpdir(), 'sso-bridge-wp-'))
  // The database and PHP workers run as other users when we are root: they must reach the files.
  chmodSync(dir, 0o755)
  const children: ChildProcess[] = []
  const stop = async () => {
    for (const child of children.reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }
    children.length = 0
    rmSync(dir, { recursive: true, force: true })
  }
  const start = (cmd: string, args: string[], logFile: string) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    const out: string[] = []
    child.stdout!.on('data', (d) => out.push(String(d)))
    child.stderr!.on('data', (d) => out.push(String(d)))
    child.on('exit', () => writeFileSync(logFile, out.join(''), { flag: 'a' }))
    children.push(child)
    return { child, out: () => out.join('') }
  }

  try {
    // MariaDB: its own datadir and socket, no TCP at all.
    const db = path.join(dir, 'db')
    const runDir = path.join(dir, 'mysqld')
    const socket = path.join(runDir, 'mysqld.sock')
    mkdirSync(db)
    mkdirSync(runDir)
    const dbUser = asRoot ? ['--user=mysql'] : []
    if (asRoot) {
      for (const d of [db, runDir]) chownSync(d, uidOf('mysql'), gidOf('mysql'))
    }
    run(BINARIES['mariadb-install-db'], [
      '--no-defaults',
      `--datadir=${db}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      ...dbUser,
    ])
    const mariadb = start(
      BINARIES.mariadbd,
      [
        '--no-defaults',
        `--datadir=${db}`,
        `--socket=${socket}`,
        `--pid-file=${path.join(runDir, 'mysqld.pid')}`,
        '--skip-networking',
        '--skip-log-bin',
        '--innodb-buffer-pool-size=64M',
        // The data dies with the test run: no fsync per commit.
        '--innodb-flush-log-at-trx-commit=0',
        ...dbUser,
      ],
      path.join(dir, 'mariadb.log'),
    )
    await until('mariadbd', () => existsSync(socket), mariadb.child, mariadb.out)
    run(BINARIES.mariadb, [
      '--no-defaults',
      `--socket=${socket}`,
      '-uroot',
      '-e',
      'CREATE DATABASE wordpress',
    ])

    // The site: a copy of Debian's WordPress with our own wp-config.php and wp-content.
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const root = path.join(dir, 'wp')
    cpSync(WORDPRESS_SOURCE, root, { recursive: true, verbatimSymlinks: true })
    rmSync(path.join(root, 'wp-config.php'))
    rmSync(path.join(root, '.htaccess'), { force: true })
    mkdirSync(path.join(root, 'wp-content', 'themes', 'plain'), { recursive: true })
    writeFileSync(path.join(root, 'wp-content', 'themes', 'plain', 'style.css'), PLAIN_THEME_CSS)
    writeFileSync(path.join(root, 'wp-content', 'themes', 'plain', 'index.php'), PLAIN_THEME_INDEX)
    symlinkSync(
      PLUGIN_DIR.replace(/\/$/, ''),
      path.join(root, 'wp-content', 'plugins', 'sso-bridge'),
    )
    const salt = () => randomBytes(32).toString('hex')
    const define = (name: string, value: string | boolean) =>
      `define(${JSON.stringify(name)}, ${typeof value === 'string' ? phpString(value) : String(value)});`
    writeFileSync(
      path.join(root, 'wp-config.php'),
      [
        '<?php',
        define('DB_NAME', 'wordpress'),
        define('DB_USER', 'root'),
        define('DB_PASSWORD', ''),
        define('DB_HOST', `localhost:${socket}`),
        define('DB_CHARSET', 'utf8mb4'),
        define('DB_COLLATE', ''),
        ...[
          'AUTH_KEY',
          'SECURE_AUTH_KEY',
          'LOGGED_IN_KEY',
          'NONCE_KEY',
          'AUTH_SALT',
          'SECURE_AUTH_SALT',
          'LOGGED_IN_SALT',
          'NONCE_SALT',
        ].map((k) => define(k, salt())),
        "$table_prefix = 'wp_';",
        define('WP_HOME', url),
        define('WP_SITEURL', url),
        // The tests run the plugin's retries themselves; no request spawns wp-cron behind them.
        define('DISABLE_WP_CRON', true),
        // No update checks against wordpress.org: only this host (and so sso-bridge) is reachable.
        define('WP_HTTP_BLOCK_EXTERNAL', true),
        define('AUTOMATIC_UPDATER_DISABLED', true),
        define('WP_DEBUG', true),
        define('WP_DEBUG_DISPLAY', false),
        define('WP_DEBUG_LOG', path.join(dir, 'wp-debug.log')),
        define('FS_METHOD', 'direct'),
        "if (!defined('ABSPATH')) define('ABSPATH', __DIR__ . '/');",
        "require_once ABSPATH . 'wp-settings.php';",
        '',
      ].join('\n'),
    )

    // php-fpm: one static pool on a private socket.
    const fpmSocket = path.join(dir, 'php-fpm.sock')
    writeFileSync(
      path.join(dir, 'php-fpm.conf'),
      [
        '[global]',
        `pid = ${path.join(dir, 'php-fpm.pid')}`,
        `error_log = ${path.join(dir, 'php-fpm.log')}`,
        'daemonize = no',
        '[wordpress]',
        ...(asRoot ? ['user = root', 'group = root'] : []),
        `listen = ${fpmSocket}`,
        'pm = static',
        'pm.max_children = 4',
        'catch_workers_output = yes',
        'clear_env = no',
        `php_admin_value[error_log] = ${path.join(dir, 'php-errors.log')}`,
        'php_admin_flag[log_errors] = on',
        'php_admin_value[memory_limit] = 256M',
        '',
      ].join('\n'),
    )
    const fpm = start(
      BINARIES['php-fpm8.2'],
      ['--nodaemonize', '--fpm-config', path.join(dir, 'php-fpm.conf'), ...(asRoot ? ['-R'] : [])],
      path.join(dir, 'php-fpm.out'),
    )
    await until(
      'php-fpm',
      () => existsSync(fpmSocket),
      fpm.child,
      () => tail(path.join(dir, 'php-fpm.log')),
    )

    // nginx: WordPress's usual front controller.
    const temp = path.join(dir, 'nginx-temp')
    mkdirSync(temp)
    writeFileSync(
      path.join(dir, 'nginx.conf'),
      `${asRoot ? 'user root;\n' : ''}worker_processes 1;
pid ${path.join(dir, 'nginx.pid')};
error_log ${path.join(dir, 'nginx-error.log')} warn;
events { worker_connections 256; }
http {
  include /etc/nginx/mime.types;
  access_log ${path.join(dir, 'nginx-access.log')};
  client_body_temp_path ${temp}/body;
  fastcgi_temp_path ${temp}/fastcgi;
  proxy_temp_path ${temp}/proxy;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
  client_max_body_size 32m;
  server {
    listen 127.0.0.1:${port};
    server_name 127.0.0.1;
    root ${root};
    index index.php;
    location / { try_files $uri $uri/ /index.php?$args; }
    location ~ \\.php$ {
      try_files $uri =404;
      include /etc/nginx/fastcgi_params;
      fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
      # Debian's fastcgi_params passes HTTP_HOST as $host, without the port; on a port other than
      # 80 WordPress's canonical redirect then sends every page to itself. Add the port back (not
      # the raw client Host, which Debian's comment there warns against).
      fastcgi_param HTTP_HOST $host:$server_port;
      fastcgi_pass unix:${fpmSocket};
      fastcgi_read_timeout 600s;
    }
  }
}
`,
    )
    const nginx = start(
      BINARIES.nginx,
      [
        '-p',
        dir,
        '-c',
        path.join(dir, 'nginx.conf'),
        '-e',
        path.join(dir, 'nginx-error.log'),
        '-g',
        'daemon off;',
      ],
      path.join(dir, 'nginx.out'),
    )
    await until(
      'nginx',
      () => existsSync(path.join(dir, 'nginx.pid')),
      nginx.child,
      () => tail(path.join(dir, 'nginx-error.log')),
    )

    // php-cli inside WordPress: a bootstrap that sets what a request would.
    const bootstrap = path.join(dir, 'bootstrap.php')
    writeFileSync(
      bootstrap,
      `<?php
$_SERVER['HTTP_HOST'] = '127.0.0.1:${port}';
$_SERVER['SERVER_NAME'] = '127.0.0.1';
$_SERVER['SERVER_PORT'] = '${port}';
$_SERVER['REQUEST_URI'] = '/';
$_SERVER['REQUEST_METHOD'] = 'GET';
$_SERVER['REMOTE_ADDR'] = '127.0.0.1';
if (getenv('SSO_BRIDGE_TEST_INSTALLING')) define('WP_INSTALLING', true);
require ${phpString(path.join(root, 'wp-load.php'))};
`,
    )
    let scripts = 0
    const php = <T>(code: string, installing = false): T => {
      const file = path.join(dir, `cli-${++scripts}.php`)
      writeFileSync(
        file,
        `<?php\nrequire ${phpString(bootstrap)};\n$result = null;\n${code}\nfwrite(STDOUT, "\\n@@RESULT@@" . json_encode($result));\n`,
      )
      const r = spawnSync(BINARIES.php, [file], {
        encoding: 'utf8',
        env: { PATH: process.env.PATH, ...(installing ? { SSO_BRIDGE_TEST_INSTALLING: '1' } : {}) },
        timeout: PROCESS_START_TIMEOUT,
        maxBuffer: 64 * 1024 * 1024,
      })
      const marker = r.stdout?.lastIndexOf('@@RESULT@@') ?? -1
      if (r.status !== 0 || marker < 0)
        throw new Error(`php failed (${r.status}):\n${r.stdout}${r.stderr}\n--- code ---\n${code}`)
      return JSON.parse(r.stdout.slice(marker + '@@RESULT@@'.length)) as T
    }

    php(
      `require_once ABSPATH . 'wp-admin/includes/upgrade.php';
$r = wp_install('Test WordPress', ${phpString(ADMIN_USER)}, 'admin@example.com', true, '', ${phpString(ADMIN_PASSWORD)});
$result = $r['user_id'];`,
      true,
    )
    php(`
require_once ABSPATH . 'wp-admin/includes/plugin.php';
switch_theme('plain');
update_option('permalink_structure', '');
$activated = activate_plugin('sso-bridge/sso-bridge.php');
if (is_wp_error($activated)) throw new Exception($activated->get_error_message());
$result = is_plugin_active('sso-bridge/sso-bridge.php');`)

    const errorLog = () =>
      [path.join(dir, 'wp-debug.log'), path.join(dir, 'php-errors.log')]
        .filter((f) => existsSync(f))
        .map((f) => readFileSync(f, 'utf8'))
        .join('')
    return { url, dir, php, errorLog, stop }
  } catch (err) {
    await stop().catch(() => undefined)
    throw err
  }
}

/**
 * Fills WordPress's login form (wp-login.php, on screen in `page`) once WordPress has moved the
 * focus itself. 200 ms after the form renders, wp-login.php's `wp_attempt_focus` focuses the
 * username field, or, when it shows the username already (a re-login, `reauth=1`, of a member
 * still signed in), empties the password field and focuses it. A fill before that moment can be
 * undone by it: the password emptied just before the click, or typed over the username when the
 * moment falls between the two steps of playwright's fill (focus, then type). WordPress then
 * answers "The password field is empty" and the browser never leaves wp-login.php. Waiting for
 * that focus is waiting for an event, not a time.
 */
export async function fillWordPressLogin(page: Page, login: string, password: string) {
  await page.locator('#user_login:focus, #user_pass:focus').waitFor()
  await page.fill('#user_login', login)
  await page.fill('#user_pass', password)
}

/** A PHP single-quoted string literal. */
export function phpString(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
}

function uidOf(user: string): number {
  return Number(run('id', ['-u', user]).trim())
}
function gidOf(user: string): number {
  return Number(run('id', ['-g', user]).trim())
}

// The smallest theme that renders a page's content (Debian's package ships none without its
// Recommends): enough for the shortcode to run as it would on any theme.
const PLAIN_THEME_CSS = `/*
Theme Name: Plain (sso-bridge tests)
Version: 1.0
*/
`
const PLAIN_THEME_INDEX = `<!doctype html>
<html <?php language_attributes(); ?>>
<head><meta charset="utf-8"><title><?php wp_title(); ?></title><?php wp_head(); ?></head>
<body>
<main>
<?php while (have_posts()) : the_post(); ?>
<article><h1><?php the_title(); ?></h1><?php the_content(); ?></article>
<?php endwhile; ?>
</main>
<?php wp_footer(); ?>
</body>
</html>
`
