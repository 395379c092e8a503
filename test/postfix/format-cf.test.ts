import { describe, expect, it } from 'vitest';
import { formatMainCf, overrideMainCf } from '../../src/postfix/main-cf';
import { formatMasterCf } from '../../src/postfix/master-cf';

// The harness overrides rendered parameters with overrideMainCf (docs/TESTING.md): it must
// recognise every form main.cf(5) allows, not only the renderer's own "name = value".
describe('overrideMainCf on main.cf as people write it', () => {
  const text = '# header comment\nmyhostname=relay.example.com\nsmtpd_recipient_restrictions = a,\n b,\n\tc\nmessage_size_limit = 10\n';

  it('comments out a long name written without spaces, and every continuation line however indented', () => {
    const out = overrideMainCf(text, { myhostname: 'other.example.com', smtpd_recipient_restrictions: 'z' }, 'test');
    expect(out).toBe(
      '# header comment\n#myhostname=relay.example.com\n#smtpd_recipient_restrictions = a,\n# b,\n#\tc\nmessage_size_limit = 10\n# test\nmyhostname = other.example.com\nsmtpd_recipient_restrictions = z\n',
    );
  });
});

describe('format defaults', () => {
  it('titles a main.cf and a master.cf that were given no title', () => {
    expect(formatMainCf([['a', '1']])).toBe('# main.cf: rendered by src/postfix/main-cf.ts. Do not edit: change the environment file.\na = 1\n');
    expect(formatMasterCf([]).split('\n')[0]).toBe('# master.cf: rendered by src/postfix/master-cf.ts. Do not edit: change the renderer.');
  });
});
