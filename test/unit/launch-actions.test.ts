import { describe, expect, it } from 'vitest';
import { actionFromUrl, launchAction } from '../../main/core/desktop/launch-actions.ts';

describe('launchAction', () => {
  it('reads an action flag from a second start, wherever it is in the command line', () => {
    expect(launchAction(['/opt/Operator Companion/operator-companion', '--mute'])).toBe('mute');
    expect(launchAction(['C:\\Program Files\\Operator Companion\\Operator Companion.exe', '--no-sandbox', '--toggle'])).toBe('toggle');
    expect(launchAction(['operator-companion', '--hold'])).toBe('hold');
  });

  it('reads a link, as Windows and Linux pass it on the command line', () => {
    expect(launchAction(['Operator Companion.exe', 'operator-companion://unmute'])).toBe('unmute');
    expect(launchAction(['app', 'operator-companion://unhold/'])).toBe('unhold');
    expect(launchAction(['app', 'OPERATOR-COMPANION://MUTE'])).toBe('mute');
  });

  it('asks for nothing on a plain second start or anything it does not know', () => {
    expect(launchAction(['operator-companion'])).toBeNull();
    expect(launchAction(['app', '--mute-all', '--delete'])).toBeNull();
    expect(launchAction(['app', 'operator-companion://format-disk'])).toBeNull();
    expect(launchAction(['app', 'https://operator-companion/mute'])).toBeNull();
  });
});

describe('actionFromUrl', () => {
  it('takes the forms a tool may send', () => {
    expect(actionFromUrl('operator-companion:toggle')).toBe('toggle');
    expect(actionFromUrl('operator-companion://hold')).toBe('hold');
    expect(actionFromUrl('operator-companion://hold?x=1')).toBeNull();
  });
});
