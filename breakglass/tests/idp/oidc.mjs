// A real OpenID Connect provider for the single sign-on browser tests: the certified `oidc-provider`
// package with its development sign-in form (any password; the login names a person in the people
// file). Usage: node oidc.mjs --port N --client-id ID --client-secret S --redirect-uri URL --people FILE
//
// The people file is JSON, {"login": {"email": ..., "name": ..., "groups": [...]}, ...}, read again
// at every sign-in, so a test can take someone out of a group between two sign-ins. Optional
// "amr" (a list) and "acr" go into the ID token.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import Provider from 'oidc-provider';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    'redirect-uri': { type: 'string' },
    people: { type: 'string' },
  },
});
for (const name of ['port', 'client-id', 'client-secret', 'redirect-uri', 'people']) {
  if (!args[name]) { console.error(`--${name} is required`); process.exit(2); }
}

const issuer = `http://127.0.0.1:${args.port}`;
const person = (login) => JSON.parse(readFileSync(args.people, 'utf8'))[login];

const provider = new Provider(issuer, {
  clients: [{
    client_id: args['client-id'],
    client_secret: args['client-secret'],
    redirect_uris: [args['redirect-uri']],
    grant_types: ['authorization_code'],
    response_types: ['code'],
  }],
  scopes: ['openid', 'profile', 'email', 'groups'],
  claims: {
    openid: ['sub', 'amr', 'acr'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username'],
    groups: ['groups'],
  },
  async findAccount(ctx, sub) {
    const found = person(sub);
    if (!found) return undefined;
    return {
      accountId: sub,
      async claims() {
        const again = person(sub) || found;
        const [given, ...family] = (again.name || sub).split(' ');
        return {
          sub,
          email: again.email,
          email_verified: again.email_verified ?? true,
          name: again.name,
          given_name: given,
          family_name: family.join(' '),
          preferred_username: sub,
          groups: again.groups || [],
        };
      },
    };
  },
  features: { devInteractions: { enabled: true } },
  // Short so that consecutive test sign-ins each go through the form.
  ttl: { Session: 60, Grant: 60 },
});
provider.proxy = false;

// The development sign-in form names the person only; add the authentication methods (amr) and
// class (acr) the people file gives them, as a provider that asked for a second factor would.
const finish = provider.interactionFinished.bind(provider);
provider.interactionFinished = (req, res, result, options) => {
  const signedIn = result.login && person(result.login.accountId);
  if (signedIn?.amr) result.login.amr = signedIn.amr;
  if (signedIn?.acr) result.login.acr = signedIn.acr;
  return finish(req, res, result, options);
};

// Someone typing a login that is not in the people file is refused by findAccount at the token
// step; say so on stderr, where the test shows it when it fails.
provider.on('server_error', (ctx, error) => console.error('server_error', error));

provider.listen(Number(args.port), '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
