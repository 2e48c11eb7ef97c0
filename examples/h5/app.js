// The H5 package through its public entry (serve.mjs serves sdk/h5/dist/ as /sdk/).
import { createH5Client, ErrorCode } from './sdk/index.js';

const params = new URLSearchParams(location.search);
// The service started with `npm start`; ?api=… points the page at another one.
const API = params.get('api') || 'http://127.0.0.1:3000/api/v1';
const client = createH5Client({ baseUrl: API });
const show = (id, text) => (document.getElementById(id).textContent = text);

async function main() {
  const signedIn = localStorage.getItem('wxb_session') !== null;
  if (!signedIn || location.hash.includes('ticket=') || location.hash.includes('error=')) {
    // The first visit leaves for WeChat here; back with #ticket=… it resolves.
    await client.signIn({ scope: 'snsapi_userinfo' });
  }
  const me = await client.request('GET', '/users/me').catch(async (error) => {
    // The login ended (logout elsewhere, or past its lifetime): sign in again, which leaves the page.
    const gone = [ErrorCode.AUTH_REQUIRED, ErrorCode.REFRESH_TOKEN_INVALID, ErrorCode.REFRESH_TOKEN_REUSED];
    if (!gone.includes(error.code)) throw error;
    return client.signIn({ scope: 'snsapi_userinfo' });
  });
  show('status', 'Signed in');
  show('me', JSON.stringify(me, null, 2));
  await client.configureJsSdk(['updateAppMessageShareData', 'chooseImage']);
  show('jssdk', 'JS-SDK ready');
}

main().catch((error) => {
  if (error.code === ErrorCode.NO_CONSENT) show('status', 'Sign-in refused');
  else show('status', `${error.message} (code ${error.code})`);
});
