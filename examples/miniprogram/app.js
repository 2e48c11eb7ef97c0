import { createClient } from 'wechat-miniprogram-backend-sdk';

// DevTools reaches the service started with `npm start` on this machine; a phone needs the
// machine's LAN address (or an https domain listed in the mini-program's admin).
const API = 'http://127.0.0.1:3000/api/v1';

App({
  client: createClient({ baseUrl: API }),
});
