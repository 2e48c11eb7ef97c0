import { menuProblems } from './menu-buttons.js';

const click = (name = 'Today', key = 'V1001_TODAY_MUSIC') => ({ type: 'click', name, key });
const view = (name = 'Search', url = 'http://www.soso.com/') => ({ type: 'view', name, url });
const fields = (button: unknown) => menuProblems(button).map((problem) => problem.field);

describe('menuProblems', () => {
  it('accepts the menus the contract allows, every button type included', () => {
    const menu = [
      click('今日歌曲'),
      {
        name: '菜单',
        sub_button: [
          view('搜索'),
          {
            type: 'miniprogram',
            name: 'wxa',
            url: 'http://mp.weixin.qq.com',
            appid: 'wx286b93c14bbf93aa',
            pagepath: 'pages/lunar/index',
          },
          { type: 'scancode_push', name: 'scan', key: 'rselfmenu_0_1' },
          { type: 'pic_weixin', name: 'photo', key: 'rselfmenu_1_2' },
          { type: 'location_select', name: 'where', key: 'rselfmenu_2_0' },
        ],
      },
      { name: 'More', sub_button: [{ type: 'article_id', name: 'a', article_id: 'ARTICLE_ID_1' }] },
    ];
    expect(menuProblems(menu)).toEqual([]);
    expect(menuProblems([{ type: 'article_view_limited', name: 'x', article_id: '1' }])).toEqual([]);
    for (const type of ['scancode_waitmsg', 'pic_sysphoto', 'pic_photo_or_album']) {
      expect(menuProblems([{ type, name: 'x', key: 'k' }])).toEqual([]);
    }
  });

  it('holds 1–3 buttons at the top and 1–5 below', () => {
    expect(fields([])).toEqual(['button']);
    expect(fields([click(), click(), click(), click()])).toEqual(['button']);
    expect(fields([{ name: 'm', sub_button: [] }])).toEqual(['button.0.sub_button']);
    expect(fields([{ name: 'm', sub_button: Array.from({ length: 6 }, () => view()) }])).toEqual([
      'button.0.sub_button',
    ]);
    expect(menuProblems([{ name: 'm', sub_button: Array.from({ length: 5 }, () => view()) }])).toEqual([]);
  });

  it('measures names in UTF-8 bytes: 16 at the top, 60 below', () => {
    expect(menuProblems([click('一二三四五六')])).toEqual([
      { field: 'button.0.name', message: 'button.0.name must be 1-16 bytes of UTF-8' },
    ]);
    expect(menuProblems([click('一二三四五a')])).toEqual([]); // 16 bytes
    expect(menuProblems([click('a'.repeat(16))])).toEqual([]);
    expect(fields([click('')])).toEqual(['button.0.name']);
    expect(fields([{ name: '一二三四五六', sub_button: [view()] }])).toEqual(['button.0.name']);
    expect(menuProblems([{ name: 'm', sub_button: [view('一'.repeat(20))] }])).toEqual([]); // 60 bytes
    expect(fields([{ name: 'm', sub_button: [view(`${'一'.repeat(20)}a`)] }])).toEqual([
      'button.0.sub_button.0.name',
    ]);
  });

  it('checks each type’s own fields: key 1–128 bytes, url, appid, pagepath, article_id', () => {
    expect(fields([click('a', '')])).toEqual(['button.0.key']);
    expect(fields([click('a', '键'.repeat(43))])).toEqual(['button.0.key']); // 129 bytes
    expect(menuProblems([click('a', 'k'.repeat(128))])).toEqual([]);
    expect(fields([{ type: 'click', name: 'a' }])).toEqual(['button.0.key']);
    expect(fields([view('a', 'www.soso.com')])).toEqual(['button.0.url']);
    expect(fields([view('a', `https://a.example/${'x'.repeat(1010)}`)])).toEqual(['button.0.url']);
    expect(fields([{ type: 'miniprogram', name: 'a', url: 'https://a.example/' }])).toEqual([
      'button.0.appid',
      'button.0.pagepath',
    ]);
    expect(
      fields([
        { type: 'miniprogram', name: 'a', url: 'https://a.example/', appid: 'wxABCDEF', pagepath: 'p' },
      ]),
    ).toEqual(['button.0.appid']);
    expect(fields([{ type: 'article_id', name: 'a', article_id: '' }])).toEqual(['button.0.article_id']);
  });

  it('refuses unknown types, fields that do not belong, a third level and non-objects', () => {
    expect(fields([{ type: 'media_id', name: 'a', media_id: 'x' }])).toEqual(['button.0.type']);
    expect(fields([{ ...click(), url: 'https://a.example/' }])).toEqual(['button.0.url']);
    expect(fields([{ name: 'm', type: 'click', sub_button: [view()] }])).toEqual(['button.0.type']);
    expect(fields([{ name: 'm', sub_button: [{ name: 'n', sub_button: [view()] }] }])).toEqual([
      'button.0.sub_button.0.sub_button',
    ]);
    expect(fields(['click'])).toEqual(['button.0']);
    expect(fields({ button: [] })).toEqual(['button']);
  });
});
