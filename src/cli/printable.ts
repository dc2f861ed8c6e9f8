// Names the command prints come from anyone who can create a file in /dev/shm: a name
// holding a newline or an escape sequence could forge output lines or drive the terminal.
// Every name (and every message that may quote one) is printed through printable(): C-style
// escapes, so the text shows exactly one line per entry and nothing is interpreted.
//
//   \\            a backslash
//   \n \r \t      newline, carriage return, tab
//   \xHH          any other byte below 0x20, and DEL (0x7f): \x1b for ESC
//   \u{HHHH}      other characters a terminal does not print as themselves: C1 controls
//                 (U+0080..U+009F), format characters (bidirectional overrides such as
//                 U+202E, zero-width ones), line and paragraph separators, unassigned code
//                 points, private use and lone surrogates (Unicode categories C, Zl, Zp)
//
// JSON output keeps the raw names (JSON.parse gives them back byte for byte): JSON.stringify
// escapes what is below 0x20, and jsonForTerminal() escapes the rest of the list above as
// \uHHHH, which any JSON parser reads back to the same characters.

const UNPRINTABLE = /[\\\p{C}\p{Zl}\p{Zp}]/gu;
const SHORT: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeOne(ch: string): string {
  const short = SHORT[ch];
  if (short !== undefined) return short;
  const code = ch.codePointAt(0)!;
  if (code < 0x20 || code === 0x7f) return `\\x${code.toString(16).padStart(2, '0')}`;
  return `\\u{${code.toString(16).toUpperCase().padStart(4, '0')}}`;
}

/** `text` with every control, non-printing character and backslash escaped (see above). */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, escapeOne);
}

// Besides what JSON.stringify escapes already (below 0x20, quote, backslash).
const JSON_UNSAFE = /[\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;

/** JSON.stringify(value), with characters a terminal could act on escaped as \uHHHH: the same JSON value. */
export function jsonForTerminal(value: unknown): string {
  return JSON.stringify(value).replace(JSON_UNSAFE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
