import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { needsExactParse, parseItemJson } from './json-fast.js';
import { JsonDepthError, JsonNumber, parseJson, stringifyJson } from './json.js';

const nested = (depth: number, leaf = '1'): string => '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);

describe('parseJson: depth is bounded, nothing recurses', () => {
  it('refuses properties nested 5,000 deep (10 KB) with a JsonDepthError naming where, instead of overflowing the stack later', () => {
    const text = `{"id":"x","properties":${nested(5000)}}`;
    assert.throws(() => parseJson(text, 128), (e: unknown) => {
      assert.ok(e instanceof JsonDepthError);
      assert.equal(e.limit, 128);
      assert.equal(e.path, 'properties.a.a.a.a.a…');
      return true;
    });
  });

  it('takes exactly maxDepth levels, the item itself counting as one, and refuses one more', () => {
    assert.deepEqual(parseJson('[[1]]', 2), [[1]]);
    assert.throws(() => parseJson('[[[1]]]', 2), JsonDepthError);
    assert.deepEqual(parseJson('1', 0), 1);
    assert.throws(() => parseJson('{}', 0), JsonDepthError);
  });

  it('parses a million levels when the limit allows it, without a stack overflow', () => {
    const text = '['.repeat(1_000_000) + ']'.repeat(1_000_000);
    assert.ok(Array.isArray(parseJson(text, 2_000_000)));
  });
});

describe('parseJson: accepts and refuses what JSON.parse does', () => {
  const texts = [
    '{"a":1,"b":[1,2,{"c":"d\\u00e9\\n\\"\\\\\\/"}],"e":null,"f":true,"g":false,"h":-1.5}', ' [ ] ', '{}', '"x"', '0', '"\\ud800"', '{"a":1,"a":2}',
    '[1,]', '{"a":1,}', '01', '1.', '.5', '+1', '-', '1e', '1e+', '"\\x"', '"a\tb"', '"\\u12"', 'tru', 'nul', '[1 2]', '{"a" 1}',
    '', ' ', '1 2', '{"a":[}', '[', '{', '"', '\u00a01', 'NaN', 'Infinity', "{'a':1}", '{a:1}', '[1]]', '{"a":1}}',
  ];
  for (const text of texts) {
    it(`as JSON.parse: ${JSON.stringify(text)}`, () => {
      let expected: unknown;
      try {
        expected = JSON.parse(text);
      } catch {
        assert.throws(() => parseJson(text, 128), SyntaxError);
        return;
      }
      assert.deepEqual(parseJson(text, 128), expected);
    });
  }
});

describe('parseJson + stringifyJson: no silent change', () => {
  it('keeps integers beyond 2^53 digit for digit', () => {
    const text = '{"big":12345678901234567890123,"neg":-9007199254740993,"safe":9007199254740991}';
    const v = parseJson(text, 128) as Record<string, unknown>;
    assert.deepEqual(v.big, new JsonNumber('12345678901234567890123'));
    assert.equal(v.safe, 9007199254740991);
    assert.equal(stringifyJson(v), text);
  });

  it('keeps -0, 1e400, 1.0, 1E5 and floats with more digits than a double as written', () => {
    const text = '[-0,1e400,-1e400,1.0,1E5,1e21,0.1000000000000000055511151231257827,5e-324,1e-400,0,1.5,-2]';
    const v = parseJson(text, 128) as unknown[];
    assert.equal(stringifyJson(v), text);
    assert.deepEqual(v.slice(9), [0, 1.5, -2], 'numbers a double writes back the same stay numbers');
  });

  it('keeps a "__proto__" key as an own key (prototype untouched), and "constructor" too', () => {
    const text = '{"__proto__":{"polluted":true},"constructor":"c","toString":1}';
    const v = parseJson(text, 128) as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
    assert.deepEqual(Object.keys(v), ['__proto__', 'constructor', 'toString']);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(stringifyJson(v), text);
  });

  it('keeps the order of keys that JavaScript would put first (integer-like keys)', () => {
    const text = '{"b":1,"2":2,"1":[3,{"z":0,"10":1,"9":2}],"a":4,"1":5}';
    const v = parseJson(text, 128);
    assert.equal(stringifyJson(v), '{"b":1,"2":2,"1":5,"a":4}', 'a repeated key keeps its first place and its last value, as JSON.parse');
    assert.equal(stringifyJson(parseJson('{"0":1,"1":2,"x":3}', 128)), '{"0":1,"1":2,"x":3}');
    assert.equal(stringifyJson(parseJson('{"z":{"10":1,"9":2}}', 128)), '{"z":{"10":1,"9":2}}');
  });

  it('writes a value nested a million deep without recursion, and refuses a cycle', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 1_000_000; i++) deep = { a: deep };
    assert.equal(stringifyJson(deep).length, 1_000_000 * 6 + 1);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = [cyclic];
    assert.throws(() => stringifyJson(cyclic), /cyclic/);
  });

  it('writes plain values as JSON.stringify does', () => {
    const v = { s: 'é\n"\u0001\ud800', n: 1.5, t: true, f: false, z: null, u: undefined, arr: [undefined, 1], o: {} };
    assert.equal(stringifyJson(v), JSON.stringify(v));
  });
});

describe('parseItemJson: JSON.parse where it gives the same value, parseJson elsewhere', () => {
  const texts = [
    '{"a":1,"b":[1,2,{"c":"d\\u00e9\\n\\"\\\\\\/"}],"e":null,"f":true,"g":false,"h":-1.5}', '{"big":12345678901234567890123}', '[-0]', '[1e400]', '[1.0]', '[1E5]',
    '{"__proto__":{"polluted":true}}', '{"__pro\\u0074o__":1}', '{"b":1,"2":2}', '{"x":"[[[[{{{{"}', '{"s":"\\"]]]"}', '{"1.5":1,"-1":2,"01":3}', '{"a":1,"a":2}',
    '[1,]', '{"a" 1}', '"\\x"', '', '[[[[[[[[[[1]]]]]]]]]]', '{"t":"2026-11-22T14:03:11.120+01:00","n":0.5,"m":-12,"k":1e21}',
  ];
  for (const text of texts) {
    it(`as parseJson: ${JSON.stringify(text)}`, () => {
      let expected: unknown;
      try {
        expected = parseJson(text, 8);
      } catch (e) {
        assert.throws(() => parseItemJson(text, 8), (f: unknown) => (f as Error).constructor === (e as Error).constructor && (f as Error).message === (e as Error).message);
        return;
      }
      const got = parseItemJson(text, 8);
      assert.deepEqual(got, expected);
      assert.equal(stringifyJson(got), stringifyJson(expected));
    });
  }

  it('takes the fast path for a plain chat item, and the exact one for each form JSON.parse would change', () => {
    const chat = JSON.stringify({ id: 'c-1', sentAt: '2026-11-22T14:03:11.120+01:00', from: { email: 'a@b.example' }, body: { text: 'quote EUR/CHF 5m at 0.9412, {firm} [30 s]' }, properties: { n: 3, x: -1.25 } });
    assert.equal(needsExactParse(chat, 128), false);
    for (const text of ['{"big":12345678901234567890123}', '[-0]', '[1.0]', '{"__proto__":1}', '{"__pro\\u0074o__":1}', '{"2":1}', '[[[1]]]']) {
      assert.equal(needsExactParse(text, 3), true, text);
    }
  });
});
