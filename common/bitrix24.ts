// Facts about the Bitrix24 call card that every side of the product shares (see shared BITRIX24.md §2–§3).

/** The 17 `BackgroundCallCard::*` events, by their short names. */
export const CARD_EVENT_NAMES = [
  'initialized',
  'addCommentButtonClick',
  'muteButtonClick',
  'holdButtonClick',
  'closeButtonClick',
  'transferButtonClick',
  'cancelTransferButtonClick',
  'completeTransferButtonClick',
  'hangupButtonClick',
  'nextButtonClick',
  'skipButtonClick',
  'answerButtonClick',
  'entityChanged',
  'qualityMeterClick',
  'dialpadButtonClick',
  'makeCallButtonClick',
  'notifyAdminButtonClick',
] as const;
export type CardEventName = (typeof CARD_EVENT_NAMES)[number];

export const CARD_EVENT_PREFIX = 'BackgroundCallCard::';

/** The 9 `CallCard*` placement commands. */
export const CARD_COMMAND_NAMES = [
  'CallCardSetMute',
  'CallCardSetHold',
  'CallCardSetUiState',
  'CallCardGetListUiStates',
  'CallCardSetCardTitle',
  'CallCardSetStatusText',
  'CallCardStartTimer',
  'CallCardStopTimer',
  'CallCardClose',
] as const;
export type CardCommandName = (typeof CARD_COMMAND_NAMES)[number];

export const CALL_DIRECTIONS = ['incoming', 'outgoing', 'callback'] as const;
export type CallDirection = (typeof CALL_DIRECTIONS)[number];
