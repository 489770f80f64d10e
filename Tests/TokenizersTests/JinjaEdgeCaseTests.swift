import Testing
@testable import Tokenizers

/// Differential goldens: each snippet was rendered by Python jinja2 3.1.6 with HF's settings
/// (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols, HF tojson) against the
/// context below; the Swift interpreter must reproduce the output byte for byte.
/// Cases where jinja2 raises must raise here too (any ChatTemplateError; messages are jinja2's for reference).
struct JinjaEdgeCaseTests {
    struct Snippet: Sendable, CustomTestStringConvertible {
        let index: Int
        let template: String
        let expected: String?
        let error: String?
        var testDescription: String { "#\(index): " + String(template.prefix(60)) }
    }

    static let golden = #"""
{
 "context": {
  "d": {
   "a": 1,
   "b": [
    1,
    2.5,
    "x"
   ],
   "s": "Hello World",
   "n": null,
   "f": 72.0,
   "t": true,
   "q": "it's \"q\""
  },
  "xs": [
   3,
   1,
   2
  ],
  "names": [
   "b",
   "A",
   "c"
  ],
  "users": [
   {
    "name": "ann",
    "age": 30,
    "admin": true
   },
   {
    "name": "bob",
    "age": 25
   }
  ],
  "text": "  a\tb 　",
  "uni": "café ‍ x"
 },
 "cases": [
  {
   "template": "{{ undefinedvar.attr }}",
   "error": "UndefinedError: 'undefinedvar' is undefined"
  },
  {
   "template": "{{ undefinedvar['k'] }}",
   "error": "UndefinedError: 'undefinedvar' is undefined"
  },
  {
   "template": "{{ 'a' + undefinedvar }}",
   "error": "UndefinedError: 'undefinedvar' is undefined"
  },
  {
   "template": "{{ 'a' + 1 }}",
   "error": "TypeError: can only concatenate str (not \"int\") to str"
  },
  {
   "template": "{{ xs | items | list }}",
   "error": "TypeError: Can only get item pairs from a mapping."
  },
  {
   "template": "{{ undefinedvar | tojson }}",
   "error": "TypeError: Object of type Undefined is not JSON serializable"
  },
  {
   "template": "{{ raise_exception('custom message') }}",
   "error": "TemplateError: custom message"
  },
  {
   "template": "{{ undefinedfn() }}",
   "error": "UndefinedError: 'undefinedfn' is undefined"
  },
  {
   "template": "{{ d.s() }}",
   "error": "TypeError: 'str' object is not callable"
  },
  {
   "template": "{{ 1 / 0 }}",
   "error": "ZeroDivisionError: division by zero"
  },
  {
   "template": "{{ xs < 'a' }}",
   "error": "TypeError: '<' not supported between instances of 'list' and 'str'"
  },
  {
   "template": "{% for a, b in xs %}{% endfor %}",
   "error": "TypeError: cannot unpack non-iterable int object"
  },
  {
   "template": "{% for x in 5 %}{% endfor %}",
   "error": "TypeError: 'int' object is not iterable"
  },
  {
   "template": "{{ d.s.nosuchmethod() }}",
   "error": "UndefinedError: 'str object' has no attribute 'nosuchmethod'"
  },
  {
   "template": "{{ none.attr }}|{{ none['x'] }}|{{ d.n.attr }}|{{ 5.attr }}",
   "expected": "|||"
  },
  {
   "template": "{% set ns = namespace(a=1) %}{% set ns.b = 2 %}{{ ns.a }}{{ ns.b }}{{ ns.c }}",
   "expected": "12"
  },
  {
   "template": "{% set x = 5 %}{% set x.y = 1 %}",
   "error": "TemplateRuntimeError: cannot assign attribute on non-namespace object"
  },
  {
   "template": "{{ 'abc' | length }}{{ 5 | length }}",
   "error": "TypeError: object of type 'int' has no len()"
  },
  {
   "template": "line1\n  {%- if true %}\n   x\n  {% endif -%}\n  line2  \n{% for i in xs -%}\n  [{{ i }}]\n{%- endfor %}\nend",
   "expected": "line1   x\nline2  \n[3][1][2]end"
  },
  {
   "template": "{% if true %}a{% endif %}\n{% if true %}b{% endif %}\n\nc",
   "expected": "ab\nc"
  },
  {
   "template": "{%- set x = 1 -%}\n{{ x }}\n{#- comment -#}\n{{ x }}",
   "expected": "11"
  },
  {
   "template": "\t{% if true %}tab-indented{% endif %}\n  text {% if true %}inline{% endif %}\n{{ 'v' }}  {% if true %}after-var{% endif %}",
   "expected": "tab-indented  text inlinev  after-var"
  },
  {
   "template": "{{ xs | selectattr('x') | list }}|{{ users | selectattr('missing', 'undefined') | list | length }}|{{ users | map(attribute='missing', default='?') | list }}",
   "expected": "[]|2|['?', '?']"
  },
  {
   "template": "{{ \"Hello, \" ~ d.s ~ \"!\" }}|{{ d.a ~ d.b }}|{{ d.f ~ '' }}|{{ 1e100 }}|{{ 123456789.123456789 }}|{{ 1.5e-7 }}|{{ 100.0 }}|{{ 2.0 ** 70 }}",
   "expected": "Hello, Hello World!|1[1, 2.5, 'x']|72.0|1e+100|123456789.12345679|1.5e-07|100.0|1.1805916207174113e+21"
  },
  {
   "template": "{{ 'abc'.find('c') }}{{ 'abc'.find('z') }}{{ 'a-b-c'.count('-') }}{{ 'ab'.replace('', '.') }}{{ 'Hello World'.title() }}{{ 'x y'.capitalize() }}{{ '12'.isdigit() }}",
   "expected": "2-12.a.b.Hello WorldX yTrue"
  },
  {
   "template": "{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, 2) }}",
   "error": "TypeError: macro 'm' takes not more than 1 argument(s)"
  },
  {
   "template": "{{ [1, 2, 3] | join(attribute='x') }}|{{ xs | map('string') | join('-') }}|{{ d.keys() | list }}|{{ d.values() | list | length }}",
   "expected": "|3-1-2|['a', 'b', 's', 'n', 'f', 't', 'q']|7"
  },
  {
   "template": "{% for x in xs %}{{ loop.index0 }}{% set y = loop.index %}{% endfor %}{{ y }}|{% if true %}{% set z = 'leak' %}{% endif %}{{ z }}",
   "expected": "012|leak"
  },
  {
   "template": "{{ 5 if false }}|{{ (5 if false) is defined }}|{{ xs[1] if xs | length > 1 else 'short' }}",
   "expected": "|False|1"
  },
  {
   "template": "{{ 'é' == 'é' }}|{{ 'ab\\r\\n'.endswith('\\n') }}|{{ '\\r' in 'a\\r\\nb' }}|{{ 'a\\r\\nb' | length }}\n",
   "expected": "True|True|True|4"
  }
 ]
}
"""#

    static let parsed: (context: [String: JinjaValue], snippets: [Snippet]) = {
        guard case .object(let root)? = try? JinjaValue(jsonString: golden),
              case .object(let context)? = root["context"], case .array(let cases)? = root["cases"] else { return ([:], []) }
        var snippets: [Snippet] = []
        for (index, item) in cases.enumerated() {
            guard case .object(let c) = item, case .string(let template)? = c["template"] else { continue }
            var expected: String?, error: String?
            if case .string(let s)? = c["expected"] { expected = s }
            if case .string(let s)? = c["error"] { error = s }
            snippets.append(Snippet(index: index, template: template, expected: expected, error: error))
        }
        return (Dictionary(uniqueKeysWithValues: context.pairs.map { ($0.key, $0.value) }), snippets)
    }()

    @Test func goldensLoad() {
        #expect(Self.parsed.snippets.count == 30)
    }

    @Test(arguments: parsed.snippets)
    func matchesPythonJinja(_ snippet: Snippet) throws {
        let template = try ChatTemplate(source: snippet.template)
        if let expected = snippet.expected {
            let output = try template.render(Self.parsed.context)
            #expect(Array(output.utf8) == Array(expected.utf8), "got \(output.debugDescription)")
        } else {
            let error = #expect(throws: ChatTemplateError.self, "jinja2 raised \(snippet.error ?? "")") {
                _ = try template.render(Self.parsed.context)
            }
            if snippet.error?.hasPrefix("TemplateError: ") == true {
                #expect(error == .raised("custom message"))
            }
        }
    }
}
