import { locationOf } from './redirect-url.js';

describe('the Location of a redirect', () => {
  it('is the URL as given when printable ASCII, else its serialisation', () => {
    expect(locationOf('https://h5.example.com')).toBe('https://h5.example.com');
    expect(locationOf('HTTPS://H5.example.com/a?b=%E4')).toBe('HTTPS://H5.example.com/a?b=%E4');
    expect(locationOf('https://h5.example.com/页?q=值')).toBe('https://h5.example.com/%E9%A1%B5?q=%E5%80%BC');
    expect(locationOf('https://h5.example.com/café')).toBe('https://h5.example.com/caf%C3%A9');
  });
});
