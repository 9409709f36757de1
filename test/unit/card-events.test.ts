import { describe, expect, it } from 'vitest';
import { CARD_EVENT_NAMES } from '../../common/bitrix24.ts';
import { normalizeEventPayload, WORKER_EVENT_NAMES } from '../../common/card-events.ts';

const ok = (name: string, payload: unknown) => {
  const result = normalizeEventPayload(name, payload);
  if (!result.ok) throw new Error(result.error);
  return result.event.payload;
};
const error = (name: string, payload: unknown) => {
  const result = normalizeEventPayload(name, payload);
  if (result.ok) throw new Error(`accepted ${JSON.stringify(payload)}`);
  return result.error;
};

describe('card event payloads', () => {
  it('knows all 17 card events plus the two applied commands', () => {
    expect(CARD_EVENT_NAMES).toHaveLength(17);
    expect(WORKER_EVENT_NAMES).toEqual([...CARD_EVENT_NAMES, 'CallCardSetMute', 'CallCardSetHold']);
  });

  it.each([[[]], [''], [null], [undefined], [{}]])('treats %j as "no payload"', (payload) => {
    expect(ok('hangupButtonClick', payload)).toBeNull();
  });

  it('normalises initialized: ids to strings, "unknown" numbers and empty CRM bindings to null', () => {
    expect(ok('initialized', { CALL_ID: 123, PHONE_NUMBER: 'unknown', CRM_ENTITY_ID: 0, CRM_ENTITY_TYPE: '', CALL_DIRECTION: 'outgoing', CRM_BINDINGS: [] })).toEqual({
      callId: '123', phoneNumber: null, lineNumber: null, lineName: null, crmEntityType: null, crmEntityId: null,
      crmActivityId: null, direction: 'outgoing', callListMode: false,
    });
  });

  it('accepts the legacy initialized that carried only the phone number', () => {
    expect(ok('initialized', '+4930123')).toMatchObject({ callId: '', phoneNumber: '+4930123' });
  });

  it('takes transfer targets as strings or numbers', () => {
    expect(ok('transferButtonClick', { phoneNumber: '+1', target: 42 })).toEqual({ phoneNumber: '+1', target: '42' });
    expect(ok('transferButtonClick', { phoneNumber: '+1', target: '42' })).toEqual({ phoneNumber: '+1', target: '42' });
  });

  it('takes quality as "1".."5" or a number', () => {
    expect(ok('qualityMeterClick', '4')).toEqual({ rating: 4 });
    expect(ok('qualityMeterClick', 5)).toEqual({ rating: 5 });
    expect(error('qualityMeterClick', '9')).toMatch(/qualityMeterClick/);
  });

  it('names what is wrong', () => {
    expect(error('muteButtonClick', 'true')).toMatch(/payload of muteButtonClick: .*boolean/);
    expect(error('initialized', { PHONE_NUMBER: '+1' })).toMatch(/at CALL_ID/);
    expect(error('initialized', { CALL_ID: '' })).toMatch(/CALL_ID must not be empty/);
    expect(error('dialpadButtonClick', '12')).toMatch(/single keypad key/);
    expect(error('CallCardSetMute', { muted: true })).toMatch(/commandId/);
    expect(error('toString', null)).toMatch(/unknown event name "toString"/);
    expect(error('addCommentButtonClick', 'x'.repeat(10_001))).toMatch(/addCommentButtonClick/);
  });
});
