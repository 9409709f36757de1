import { describe, expect, it } from 'vitest';
import { interpretReply } from '../../common/card-replies.ts';

describe('the portal\'s answers to card commands', () => {
  it('[] is success', () => {
    expect(interpretReply({ answered: true, value: [] })).toEqual({ outcome: 'ok', result: [] });
  });
  it('a list (CallCardGetListUiStates) is success with the list', () => {
    expect(interpretReply({ answered: true, value: ['incoming', 'connected'] })).toEqual({ outcome: 'ok', result: ['incoming', 'connected'] });
  });
  it('"Call card is undefined" in the browser array form means no call', () => {
    expect(interpretReply({ answered: true, value: [{ result: 'error', errorCode: 'Call card is undefined' }] })).toEqual({ outcome: 'no_call', detail: 'Call card is undefined' });
  });
  it('the desktop app\'s bare-object error is a refusal with its code', () => {
    expect(interpretReply({ answered: true, value: { result: 'error', errorCode: 'missing field muted' } })).toEqual({ outcome: 'card_refused', detail: 'missing field muted' });
  });
  it('an array error other than a missing card is a refusal', () => {
    expect(interpretReply({ answered: true, value: [{ result: 'error', errorCode: 'Invalid ui state' }] })).toEqual({ outcome: 'card_refused', detail: 'Invalid ui state' });
  });
  it('silence (timer commands in the browser) is "no answer"', () => {
    expect(interpretReply({ answered: false })).toEqual({ outcome: 'no_answer' });
  });
});
