// A real OpenID Connect provider for the tests: panva's oidc-provider (the
// certified Node.js implementation), on 127.0.0.1, playing an agency's own
// identity provider.
//
//   node provider.mjs PORT CONTROL_TOKEN
//
// Prints "ready <issuer>" on standard output once it listens.
//
// What the tests drive, besides the standard endpoints (discovery, JWKS,
// authorization, token, userinfo, dynamic client registration at /reg with
// the initial access token CONTROL_TOKEN):
//   PUT    /__test__/accounts/<id>   {password, otp?, claims: {...}}  add or change a person
//   DELETE /__test__/accounts/<id>                                    the person leaves
// Both need "Authorization: Bearer CONTROL_TOKEN".
//
// The login page (/interaction/<uid>) asks for the account id, the password
// and, optionally, a one-time code: with the right code the ID token says
// amr ["pwd", "otp", "mfa"] and acr "urn:casebridge:test:loa:2", without it
// amr ["pwd"] and acr "urn:casebridge:test:loa:1". Consent is implied (the
// agency's own provider and its own relying party).
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.argv[2] || 0);
const controlToken = process.argv[3];
if (!port || !controlToken) {
  console.error('usage: node provider.mjs PORT CONTROL_TOKEN');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;
const SCOPES = ['openid', 'offline_access', 'email', 'profile', 'groups'];
const LOA_PASSWORD = 'urn:casebridge:test:loa:1';
const LOA_MFA = 'urn:casebridge:test:loa:2';

const accounts = new Map();

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg: 'RS256' };

const configuration = {
  jwks: { keys: [signingKey] },
  scopes: SCOPES,
  claims: {
    // acr, amr and auth_time in every ID token, as most providers send them
    // (oidc-provider otherwise sends them only when the claims parameter asks).
    openid: ['sub', 'acr', 'amr', 'auth_time'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name'],
    groups: ['groups'],
  },
  acrValues: [LOA_PASSWORD, LOA_MFA],
  // The claims of the granted scopes in the ID token too, as many providers do.
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: false },
    registration: { enabled: true, initialAccessToken: controlToken },
    revocation: { enabled: true },
  },
  cookies: { keys: [randomUUID()] },
  ttl: {
    AccessToken: 3600,
    IdToken: 3600,
    AuthorizationCode: 60,
    RefreshToken: 24 * 3600,
    Grant: 24 * 3600,
    Interaction: 600,
    Session: 24 * 3600,
  },
  // A refresh token for every client allowed the grant: the relying party
  // re-checks the person with it when its session reaches the token's expiry.
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  // Consent is implied: every requested scope is granted.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const existing = await ctx.oidc.provider.Grant.find(grantId);
      if (existing) return existing;
    }
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope(SCOPES.join(' '));
    await grant.save();
    return grant;
  },
  async findAccount(ctx, id) {
    const account = accounts.get(id);
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        const current = accounts.get(id);
        return { sub: id, ...(current ? current.claims : {}) };
      },
    };
  },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!doctype html><title>Error</title><h1>Sign-in error</h1><pre id="error">${escape(JSON.stringify(out))}</pre>`;
  },
};

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function readBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

function loginPage(uid, clientId, error = '') {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Agency identity provider: sign in</title></head>
<body>
<h1>Agency identity provider</h1>
<p>Sign in to continue to <span id="client">${escape(clientId)}</span>.</p>
${error ? `<p id="login-error">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login" autocomplete="off">
  <label>Account <input id="idp-login" name="login" required></label>
  <label>Password <input id="idp-password" name="password" type="password" required></label>
  <label>One-time code <input id="idp-otp" name="otp" inputmode="numeric"></label>
  <button id="idp-submit" type="submit">Sign in at the provider</button>
</form>
</body></html>`;
}

const provider = new Provider(issuer, configuration);
provider.proxy = false;

provider.use(async (ctx, next) => {
  const path = ctx.path;
  if (path.startsWith('/__test__/')) {
    if (ctx.get('authorization') !== `Bearer ${controlToken}`) {
      ctx.status = 401;
      return;
    }
    const match = path.match(/^\/__test__\/accounts\/([^/]+)$/);
    if (!match) {
      ctx.status = 404;
      return;
    }
    const id = decodeURIComponent(match[1]);
    if (ctx.method === 'PUT') {
      const body = JSON.parse(await readBody(ctx.req));
      accounts.set(id, { password: body.password, otp: body.otp || null, claims: body.claims || {} });
      ctx.status = 204;
    } else if (ctx.method === 'DELETE') {
      accounts.delete(id);
      ctx.status = 204;
    } else {
      ctx.status = 405;
    }
    return;
  }
  const interaction = path.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (!interaction) {
    await next();
    return;
  }
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (ctx.method === 'GET' && !interaction[2]) {
    if (details.prompt.name === 'login') {
      ctx.type = 'html';
      ctx.body = loginPage(details.uid, details.params.client_id);
      return;
    }
    // Any other prompt (consent): implied.
    const grant = new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    grant.addOIDCScope(SCOPES.join(' '));
    const grantId = await grant.save();
    ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, { consent: { grantId } }, { mergeWithLastSubmission: true }));
    return;
  }
  if (ctx.method === 'POST' && interaction[2]) {
    const form = new URLSearchParams(await readBody(ctx.req));
    const login = form.get('login') || '';
    const account = accounts.get(login);
    if (!account || account.password !== form.get('password')) {
      ctx.type = 'html';
      ctx.status = 200;
      ctx.body = loginPage(details.uid, details.params.client_id, 'Wrong account or password.');
      return;
    }
    const otp = form.get('otp') || '';
    if (otp && otp !== account.otp) {
      ctx.type = 'html';
      ctx.body = loginPage(details.uid, details.params.client_id, 'Wrong one-time code.');
      return;
    }
    const mfa = Boolean(otp);
    const result = {
      login: {
        accountId: login,
        amr: mfa ? ['pwd', 'otp', 'mfa'] : ['pwd'],
        acr: mfa ? LOA_MFA : LOA_PASSWORD,
        remember: false,
      },
    };
    ctx.redirect(await provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: false }));
    return;
  }
  ctx.status = 405;
});

provider.listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
