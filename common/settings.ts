// The operator's settings: one schema shared by the main process (which stores them) and the settings window
// (which edits them), so both sides agree on what is valid.
import { z } from 'zod';
import { CENTRAL_TLS_MODES } from './central-tls.ts';
import { LOG_EXPORT_FORMATS } from './ipc.ts';
import { DEFAULT_PORT } from './protocol-constants.ts';

const MODIFIERS = ['Command', 'Cmd', 'Control', 'Ctrl', 'CommandOrControl', 'CmdOrCtrl', 'Alt', 'Option', 'AltGr', 'Shift', 'Super', 'Meta'];
const KEY = /^([A-Z0-9]|F([1-9]|1[0-9]|2[0-4])|Plus|Space|Tab|Backspace|Delete|Insert|Return|Enter|Up|Down|Left|Right|Home|End|PageUp|PageDown|Escape|Esc|numadd|numsub|nummult|numdiv|num[0-9]|[)!@#$%^&*(:;:+=<,_\-.>?/~`{\][|\\}"'])$/;

/**
 * An Electron accelerator such as `CommandOrControl+Alt+M`, or '' for "no hotkey". A global hotkey needs a
 * modifier (a bare letter would be taken from every program), except the spare function keys F13–F24.
 */
export function acceleratorProblem(value: string): string | null {
  if (value === '') return null;
  const parts = value.split('+');
  // "Plus" names the + key; a trailing '+' after a modifier is the key itself.
  const key = parts.pop() as string;
  if (!KEY.test(key)) return `"${key}" is not a key Electron knows`;
  for (const modifier of parts) if (!MODIFIERS.includes(modifier)) return `"${modifier}" is not a modifier (use ${MODIFIERS.slice(0, 6).join(', ')}, …)`;
  if (new Set(parts).size !== parts.length) return 'a modifier is repeated';
  if (parts.length === 0 && !/^F(1[3-9]|2[0-4])$/.test(key)) return 'a global hotkey needs a modifier such as CommandOrControl or Alt';
  return null;
}

const accelerator = z.string().max(60).superRefine((value, ctx) => {
  const problem = acceleratorProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const httpsOrigin = z
  .string()
  .max(200)
  .refine((value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'https:' && url.origin === value;
    } catch {
      return false;
    }
  }, 'an origin like https://companion.example.com (no path, no trailing slash)');

/**
 * A `postgres://user@host:port/database` URL for the central log, or '' for none. The password never goes here
 * (settings.json is plain text): the desktop app keeps it in the system keychain.
 */
const postgresUrl = z
  .string()
  .max(1000)
  .superRefine((value, ctx) => {
    if (value === '') return;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'a URL like postgres://pc_olga@db.example.com:5432/companion' });
      return;
    }
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') ctx.addIssue({ code: 'custom', message: 'the URL must start with postgres://' });
    else if (url.password !== '' || url.searchParams.has('password')) ctx.addIssue({ code: 'custom', message: 'leave the password out of the URL: enter it in the password field (it is kept in the system keychain)' });
  });

export const HOTKEY_ACTIONS = ['toggleMute', 'mute', 'unmute', 'hold'] as const;
export type HotkeyAction = (typeof HOTKEY_ACTIONS)[number];

export const LANGUAGES = ['system', 'en', 'ru'] as const;

export const settingsSchema = z
  .object({
    // Defaults that rarely clash with other programs: Ctrl+Alt (Cmd+Alt on macOS) plus a letter.
    hotkeys: z
      .object({
        toggleMute: accelerator.default('CommandOrControl+Alt+M'),
        mute: accelerator.default(''),
        unmute: accelerator.default(''),
        hold: accelerator.default('CommandOrControl+Alt+H'),
      })
      .strict()
      .default({ toggleMute: 'CommandOrControl+Alt+M', mute: '', unmute: '', hold: 'CommandOrControl+Alt+H' }),
    hotkeysPaused: z.boolean().default(false),
    port: z.number().int().min(1024).max(65535).default(DEFAULT_PORT),
    allowedOrigins: z.array(httpsOrigin).max(20).default([]),
    startAtLogin: z.boolean().default(false),
    language: z.enum(LANGUAGES).default('system'),
    /** Remind the operator after this many seconds muted on a live call; 0 = never. */
    muteReminderSeconds: z.number().int().min(0).max(3600).default(0),
    soundCues: z.boolean().default(false),
    /** The operator's real microphone, kept in step with the call card (docs/microphone.md). */
    microphone: z
      .object({
        /** `default` (the system's default, followed when it changes), `off` (mirror the card only), or a device name. */
        device: z.string().min(1).max(300).default('default'),
        /** At the end of a call: unmute what the app muted (`app`), unmute always, or never. */
        endOfCall: z.enum(['app', 'always', 'never']).default('app'),
        /** A small always-on-top badge on screen while muted. */
        indicator: z.boolean().default(true),
        /** Locking the screen or suspending mutes the call (unlocking does not unmute). */
        muteOnLock: z.boolean().default(true),
      })
      .strict()
      .default({ device: 'default', endOfCall: 'app', indicator: true, muteOnLock: true }),
    /** Every day at `time` (local), the previous day's log is exported into `folder`. */
    scheduledExport: z
      .object({
        enabled: z.boolean().default(false),
        time: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time like 07:30').default('07:00'),
        folder: z.string().max(1000).default(''),
        format: z.enum(LOG_EXPORT_FORMATS).default('xlsx'),
        /** `local`: this PC's log; `central`: the whole team's, from the central database (needs `central.readUrl`). */
        source: z.enum(['local', 'central']).default('local'),
      })
      .strict()
      .refine((s) => !s.enabled || s.folder.trim() !== '', { message: 'choose a folder for the daily export', path: ['folder'] })
      .default({ enabled: false, time: '07:00', folder: '', format: 'xlsx', source: 'local' }),
    /** The central PostgreSQL (docs/central.md): where this PC's log is synced, and the team's log is read. */
    central: z
      .object({
        /** This PC's writer login; '' = no sync. */
        url: postgresUrl.default(''),
        tls: z.enum(CENTRAL_TLS_MODES).default('prefer'),
        /** PEM file of the CA that signed the server's certificate ('' = the system's CAs). */
        caFile: z.string().max(1000).default(''),
        /** A read-only (supervisor) login, for the whole team's log; '' = none. */
        readUrl: postgresUrl.default(''),
      })
      .strict()
      .default({ url: '', tls: 'prefer', caFile: '', readUrl: '' }),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.scheduledExport.source === 'central' && s.central.readUrl === '') {
      ctx.addIssue({ code: 'custom', message: 'the whole team\'s daily export needs the read-only URL of the team log', path: ['scheduledExport', 'source'] });
    }
  });

export type Settings = z.output<typeof settingsSchema>;
