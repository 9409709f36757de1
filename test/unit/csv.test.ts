import { describe, expect, it } from 'vitest';
import { csvCell } from '../../main/core/export/export-log.ts';

describe('CSV cells', () => {
  it.each([
    ['=SUM(A1:A9)', "'=SUM(A1:A9)"],
    ['+74951234567', '"=""+74951234567"""'],
    ['+7 495', "'+7 495"],
    [' =1+2', "' =1+2"],
    ['\n=1+2', '"\'\n=1+2"'],
    ['\u00a0@SUM(1)', "'\u00a0@SUM(1)"],
    [' plain', ' plain'],
    ['-1', "'-1"],
    ['@cmd', "'@cmd"],
    ['\tx', "'\tx"],
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
  ])('%j → %j', (input, output) => {
    expect(csvCell(input, ',')).toBe(output);
  });
  it('leaves numbers and empties alone', () => {
    expect(csvCell(-5, ',')).toBe('-5');
    expect(csvCell(null, ',')).toBe('');
  });
  it('quotes by the chosen delimiter', () => {
    expect(csvCell('a;b', ';')).toBe('"a;b"');
    expect(csvCell('a,b', ';')).toBe('a,b');
  });
});
