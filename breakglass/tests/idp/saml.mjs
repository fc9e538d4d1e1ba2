// A real SAML 2.0 identity provider for the single sign-on browser tests: Auth0's `samlp` middleware
// (signed assertions, HTTP-Redirect binding in, HTTP-POST binding out) behind a one-field sign-in
// form. Usage:
//   node saml.mjs --port N --acs URL --cert FILE --key FILE --people FILE [--groups-attribute NAME]
// The people file is as for oidc.mjs, read again at every sign-in. Metadata: /metadata.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import samlp from 'samlp';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    acs: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    people: { type: 'string' },
    'groups-attribute': { type: 'string', default: 'groups' },
  },
});
for (const name of ['port', 'acs', 'cert', 'key', 'people']) {
  if (!args[name]) { console.error(`--${name} is required`); process.exit(2); }
}

const issuer = `http://127.0.0.1:${args.port}/metadata`;
const cert = readFileSync(args.cert, 'utf8');
const key = readFileSync(args.key, 'utf8');
const person = (login) => JSON.parse(readFileSync(args.people, 'utf8'))[login];
const claim = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/';

// What samlp puts in the assertion: the attributes Okta, Entra ID and AD FS use by default.
function ProfileMapper(user) {
  if (!(this instanceof ProfileMapper)) return new ProfileMapper(user);
  this.user = user;
}
ProfileMapper.prototype.getClaims = function getClaims() {
  const [given, ...family] = (this.user.name || this.user.login).split(' ');
  return {
    [`${claim}emailaddress`]: this.user.email,
    [`${claim}givenname`]: given,
    [`${claim}surname`]: family.join(' '),
    [args['groups-attribute']]: this.user.groups || [],
  };
};
ProfileMapper.prototype.getNameIdentifier = function getNameIdentifier() {
  return {
    nameIdentifier: this.user.login,
    nameIdentifierFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
  };
};
ProfileMapper.prototype.metadata = [];

const options = {
  issuer,
  cert,
  key,
  profileMapper: ProfileMapper,
  destination: args.acs,
  recipient: args.acs,
  lifetimeInSeconds: 300,
  signatureAlgorithm: 'rsa-sha256',
  digestAlgorithm: 'sha256',
  // The one service provider this provider knows: anything else gets no assertion.
  getPostURL: (audience, request, req, callback) => {
    const asked = request && request.documentElement.getAttribute('AssertionConsumerServiceURL');
    callback(null, !asked || asked === args.acs ? args.acs : null);
  },
  getUserFromRequest: (req) => req.user,
};
const sso = samlp.auth(options);
const metadata = samlp.metadata({ issuer, cert, redirectEndpointPath: '/sso', postEndpointPath: '/sso' });

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const signInForm = (fields) => `<!doctype html><html><head><title>Test SAML IdP: sign in</title></head>
<body><h1>Sign in to the test SAML identity provider</h1>
<form method="post" action="/sso">
<label>Login <input name="login" autofocus></label>
${Object.entries(fields).map(([k, v]) => `<input type="hidden" name="${k}" value="${escape(v)}">`).join('\n')}
<button type="submit">Sign in</button></form></body></html>`;

// The little of Express that samlp uses.
function expressish(req, res, url, body) {
  req.query = Object.fromEntries(url.searchParams);
  req.body = body;
  req.originalUrl = url.pathname;
  req.protocol = 'http';
  res.set = (name, value) => res.setHeader(name, value);
  res.send = (first, second) => {
    const [status, text] = typeof first === 'number' ? [first, second ?? ''] : [200, first];
    res.statusCode = status;
    res.end(typeof text === 'string' ? text : JSON.stringify(text));
  };
}

const server = createServer((req, res) => {
  const url = new URL(req.url, `http://${req.headers.host}`);
  let raw = '';
  req.on('data', (chunk) => { raw += chunk; });
  req.on('end', () => {
    const body = Object.fromEntries(new URLSearchParams(raw));
    expressish(req, res, url, body);
    const fail = (error) => {
      console.error('error', error);
      res.send(500, String(error && error.message ? error.message : error));
    };
    if (url.pathname === '/metadata') return metadata(req, res, fail);
    if (url.pathname !== '/sso') return res.send(404, 'not found');
    if (req.method === 'GET') {
      res.set('Content-Type', 'text/html');
      return res.send(signInForm({
        SAMLRequest: req.query.SAMLRequest || '', RelayState: req.query.RelayState || '',
      }));
    }
    const found = person(body.login);
    if (!found) return res.send(401, 'unknown login');
    req.user = { login: body.login, ...found };
    return sso(req, res, fail);
  });
});
server.listen(Number(args.port), '127.0.0.1', () => console.log(`ready http://127.0.0.1:${args.port}`));
