/**
 * SimpleSAMLphp 1.19 from Debian (`/usr/share/simplesamlphp`) as a SAML 2.0 IdP, served by
 * Debian's nginx and php-fpm as processes of our own, for the peer benchmark.
 *
 * Everything lives in a throwaway directory: SimpleSAMLphp's config, auth sources and metadata
 * (found through `SIMPLESAMLPHP_CONFIG_DIR`, passed by nginx as a FastCGI parameter), a
 * throwaway RSA-2048 key and certificate from `openssl req -x509`, PHP's session files, the
 * php-fpm pool and nginx.conf (nginx runs with that directory as its prefix). Nothing under /etc
 * or /var is read for configuration or written; the processes are stopped by their pids.
 *
 * The php-fpm pool is Debian's shipped www.conf pool sizing (`pm = dynamic`, 5 children at
 * most, 2 at start, 1–3 spare), so the idle memory is what an operator who installs the package
 * gets; OPcache is on, as Debian's php-fpm ships it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'

export const SSP_DIR = '/usr/share/simplesamlphp'
const PHP_FPM = '/usr/sbin/php-fpm8.2'
const NGINX = '/usr/sbin/nginx'
const OPENSSL = '/usr/bin/openssl'
const PHP = '/usr/bin/php'

/** The Debian packages this peer needs (php8.2-xml: DOM, which SimpleSAMLphp signs with). */
export const SSP_PACKAGES = [
  'simplesamlphp',
  'php8.2-fpm',
  'php8.2-xml',
  'php8.2-mbstring',
  'nginx',
  'openssl',
]

/** The fixed user of the `exampleauth:UserPass` source. */
export const SSP_USER = { username: 'robin', password: 'correct horse battery staple' }

const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256'

/** What is missing to run this peer, or null when everything is there. */
export function missingSimpleSamlPhp(): string[] | null {
  const missing: string[] = []
  if (!existsSync(path.join(SSP_DIR, 'www/saml2/idp/SSOService.php'))) missing.push('simplesamlphp')
  if (!existsSync(PHP_FPM)) missing.push('php8.2-fpm')
  if (!existsSync(NGINX)) missing.push('nginx')
  if (!existsSync(OPENSSL)) missing.push('openssl')
  // The CLI and php-fpm enable the same Debian modules (phpenmod), so the CLI answers for both.
  const dom = existsSync(PHP)
    ? spawnSync(PHP, [
        '-r',
        'exit(extension_loaded("dom") && extension_loaded("mbstring") ? 0 : 1);',
      ])
    : null
  if (!dom || dom.status !== 0) missing.push('php8.2-xml', 'php8.2-mbstring')
  return missing.length > 0 ? missing : null
}

/**
 * Installs the packages when missing and this process may (root); otherwise throws with the
 * exact command. Debian's policy-rc.d is honoured, and no package's own service is used.
 */
export function ensureSimpleSamlPhp(log: (s: string) => void): void {
  if (!missingSimpleSamlPhp()) return
  const command = `apt-get install -y --no-install-recommends ${SSP_PACKAGES.join(' ')}`
  if (process.getuid?.() !== 0)
    throw new Error(
      `SimpleSAMLphp is not installed (the peer benchmark needs it). Run: sudo ${command}`,
    )
  log(`[peers] installing ${SSP_PACKAGES.join(' ')} (apt-get, as root)…`)
  const r = spawnSync('apt-get', command.split(' ').slice(1), {
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    encoding: 'utf8',
  })
  const still = missingSimpleSamlPhp()
  if (r.status !== 0 || still)
    throw new Error(
      `${command} failed (${r.status}; still missing: ${still?.join(' ')}):\n${r.stderr}`,
    )
}

/** A prepared SimpleSAMLphp directory: start it as often as needed. */
export interface SimpleSamlPhpSite {
  dir: string
  port: number
  baseUrl: string
  idpEntityId: string
  ssoUrl: string
  metadataUrl: string
  /** The IdP's certificate, PEM. */
  certificatePem: string
}

/** One running php-fpm + nginx pair. */
export interface RunningSimpleSamlPhp {
  fpm: ChildProcess
  nginx: ChildProcess
  stop: () => Promise<void>
}

const php = (v: unknown): string => JSON.stringify(v).replaceAll('$', '\\$')

/**
 * Writes SimpleSAMLphp's config (IdP hosted on this port, one SP, the UserPass source), the key
 * and certificate, the php-fpm pool and nginx.conf into `dir`.
 */
export function prepareSimpleSamlPhp(
  dir: string,
  port: number,
  sp: { entityId: string; acs: string },
): SimpleSamlPhpSite {
  const config = path.join(dir, 'config')
  const metadata = path.join(dir, 'metadata')
  const cert = path.join(dir, 'cert')
  for (const d of [config, metadata, cert, path.join(dir, 'tmp'), path.join(dir, 'sessions')])
    mkdirSync(d, { recursive: true })
  const baseUrl = `http://127.0.0.1:${port}/simplesaml/`
  const r = spawnSync(
    OPENSSL,
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=simplesamlphp.bench',
      '-keyout',
      path.join(cert, 'idp.key'),
      '-out',
      path.join(cert, 'idp.crt'),
    ],
    { encoding: 'utf8' },
  )
  if (r.status !== 0) throw new Error(`openssl req failed (${r.status}):\n${r.stderr}`)

  // config.php: only what differs from SimpleSAMLphp's defaults (Configuration.php), plus the
  // paths. PHP-array literals are written as JSON strings through json_decode, so no value
  // needs PHP quoting rules.
  const cfg = {
    baseurlpath: baseUrl,
    certdir: `${cert}/`,
    loggingdir: `${dir}/`,
    datadir: `${dir}/`,
    tempdir: path.join(dir, 'tmp'),
    metadatadir: `${metadata}/`,
    'metadata.sources': [{ type: 'flatfile', directory: `${metadata}/` }],
    technicalcontact_name: 'Bench',
    technicalcontact_email: 'bench@example.test',
    secretsalt: 'bench-secret-salt-0123456789abcdef',
    'auth.adminpassword': 'bench-admin-password-0123456789',
    'admin.protectindexpage': false,
    'admin.protectmetadata': false,
    timezone: 'UTC',
    debug: null,
    showerrors: false,
    errorreporting: false,
    'logging.level': 5, // SimpleSAML\Logger::NOTICE, the shipped level
    'logging.handler': 'file',
    'logging.logfile': 'simplesamlphp.log',
    'enable.saml20-idp': true,
    'enable.shib13-idp': false,
    'module.enable': { exampleauth: true, core: true, saml: true },
    'store.type': 'phpsession',
    'session.phpsession.savepath': path.join(dir, 'sessions'),
    'session.cookie.secure': false,
  }
  writeFileSync(
    path.join(config, 'config.php'),
    `<?php\n$config = json_decode(${php(JSON.stringify(cfg))}, true);\n`,
  )
  writeFileSync(
    path.join(config, 'authsources.php'),
    `<?php
$config = [
  'admin' => ['core:AdminPassword'],
  'example-userpass' => [
    'exampleauth:UserPass',
    ${php(`${SSP_USER.username}:${SSP_USER.password}`)} => [
      'uid' => ['1001'],
      'username' => [${php(SSP_USER.username)}],
      'email' => ['robin@example.test'],
      'displayName' => ['Robin'],
    ],
  ],
];
`,
  )
  writeFileSync(
    path.join(metadata, 'saml20-idp-hosted.php'),
    `<?php
$metadata['__DYNAMIC:1__'] = [
  'host' => '__DEFAULT__',
  'privatekey' => 'idp.key',
  'certificate' => 'idp.crt',
  'auth' => 'example-userpass',
  'signature.algorithm' => ${php(RSA_SHA256)},
  'saml20.sign.response' => true,
  'saml20.sign.assertion' => true,
];
`,
  )
  writeFileSync(
    path.join(metadata, 'saml20-sp-remote.php'),
    `<?php
$metadata[${php(sp.entityId)}] = [
  'AssertionConsumerService' => ${php(sp.acs)},
  'signature.algorithm' => ${php(RSA_SHA256)},
  'saml20.sign.response' => true,
  'saml20.sign.assertion' => true,
];
`,
  )

  const asRoot = process.getuid?.() === 0
  const sock = path.join(dir, 'php-fpm.sock')
  writeFileSync(
    path.join(dir, 'php-fpm.conf'),
    [
      '[global]',
      `pid = ${path.join(dir, 'php-fpm.pid')}`,
      `error_log = ${path.join(dir, 'php-fpm.log')}`,
      'daemonize = no',
      '[simplesamlphp]',
      ...(asRoot ? ['user = root', 'group = root'] : []),
      `listen = ${sock}`,
      // Debian's /etc/php/8.2/fpm/pool.d/www.conf sizing.
      'pm = dynamic',
      'pm.max_children = 5',
      'pm.start_servers = 2',
      'pm.min_spare_servers = 1',
      'pm.max_spare_servers = 3',
      'catch_workers_output = yes',
      `php_admin_value[error_log] = ${path.join(dir, 'php-errors.log')}`,
      'php_admin_flag[log_errors] = on',
      `php_admin_value[session.save_path] = ${path.join(dir, 'sessions')}`,
      '',
    ].join('\n'),
  )
  const temp = path.join(dir, 'nginx-temp')
  mkdirSync(temp, { recursive: true })
  // The location block is SimpleSAMLphp's documented nginx example (docs/simplesamlphp-install).
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    `${asRoot ? 'user root;\n' : ''}worker_processes 1;
pid ${path.join(dir, 'nginx.pid')};
error_log ${path.join(dir, 'nginx-error.log')} warn;
events { worker_connections 256; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  client_body_temp_path ${temp}/body;
  fastcgi_temp_path ${temp}/fastcgi;
  proxy_temp_path ${temp}/proxy;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
  keepalive_requests 100000;
  server {
    listen 127.0.0.1:${port};
    server_name 127.0.0.1;
    location ^~ /simplesaml {
      alias ${SSP_DIR}/www;
      location ~ ^(?<prefix>/simplesaml)(?<phpfile>.+?\\.php)(?<pathinfo>/.*)?$ {
        include /etc/nginx/fastcgi_params;
        fastcgi_pass unix:${sock};
        fastcgi_param SCRIPT_FILENAME $document_root$phpfile;
        fastcgi_param SCRIPT_NAME /simplesaml$phpfile;
        fastcgi_param PATH_INFO $pathinfo if_not_empty;
        fastcgi_param HTTP_HOST $host:$server_port;
        fastcgi_param SIMPLESAMLPHP_CONFIG_DIR ${config};
      }
    }
  }
}
`,
  )
  return {
    dir,
    port,
    baseUrl,
    idpEntityId: `${baseUrl}saml2/idp/metadata.php`,
    ssoUrl: `${baseUrl}saml2/idp/SSOService.php`,
    metadataUrl: `${baseUrl}saml2/idp/metadata.php`,
    certificatePem: readFileSync(path.join(cert, 'idp.crt'), 'utf8'),
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((r) => child.once('exit', () => r()))
}

/**
 * Spawns php-fpm and nginx (both at once, as a boot starts both services) and returns at once;
 * the caller polls for the first answer. `stop` ends both by pid (SIGQUIT: graceful for both).
 */
export function startSimpleSamlPhp(site: SimpleSamlPhpSite): RunningSimpleSamlPhp {
  const { dir } = site
  const asRoot = process.getuid?.() === 0
  const fpm = spawn(
    PHP_FPM,
    ['--nodaemonize', '--fpm-config', path.join(dir, 'php-fpm.conf'), ...(asRoot ? ['-R'] : [])],
    { stdio: 'ignore' },
  )
  const nginx = spawn(
    NGINX,
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
    { stdio: 'ignore' },
  )
  return {
    fpm,
    nginx,
    stop: async () => {
      for (const c of [nginx, fpm])
        if (c.exitCode === null && c.signalCode === null) c.kill('SIGQUIT')
      await Promise.all([exited(nginx), exited(fpm)])
    },
  }
}

/** The last lines of the peer's logs, for an error message. */
export function simpleSamlPhpLogs(site: SimpleSamlPhpSite): string {
  return ['php-fpm.log', 'php-errors.log', 'nginx-error.log', 'simplesamlphp.log']
    .map((f) => path.join(site.dir, f))
    .filter((f) => existsSync(f))
    .map((f) => `--- ${f}\n${readFileSync(f, 'utf8').split('\n').slice(-30).join('\n')}`)
    .join('\n')
}
