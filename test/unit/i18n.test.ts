import { describe, expect, it } from 'vitest';
import { formatDuration, MESSAGES, resolveLanguage, translate } from '../../common/i18n.ts';

describe('words', () => {
  it('Russian has every English key, with the same placeholders', () => {
    for (const [key, english] of Object.entries(MESSAGES.en)) {
      const russian = MESSAGES.ru[key as keyof typeof MESSAGES.en];
      expect(russian, key).toBeTruthy();
      expect((russian.match(/\{\w+\}/g) ?? []).sort(), key).toEqual((english.match(/\{\w+\}/g) ?? []).sort());
    }
  });
  it('follows the system unless chosen', () => {
    expect(resolveLanguage('system', 'ru-RU')).toBe('ru');
    expect(resolveLanguage('system', 'de-DE')).toBe('en');
    expect(resolveLanguage('en', 'ru-RU')).toBe('en');
  });
  it('fills placeholders and formats durations', () => {
    expect(translate('en', 'tray.mutedFor', { duration: formatDuration(65_000) })).toBe('muted for 1:05');
    expect(formatDuration(3_723_000)).toBe('1:02:03');
    expect(formatDuration(-5)).toBe('0:00');
  });
});
