// Loaded into the project's tslab kernel before tslab itself (`node --require` in the kernelspec,
// scripts/platform/jupyter.ts). It changes five things a notebook user meets, at the one step the
// project controls, and leaves tslab's files untouched (tslab is pinned to 1.0.22; each patch
// checks the shape it relies on and stands aside, with one line on stderr, when it differs):
//
//  1. Shorthand properties: `{ model }` naming another cell's variable. tslab rewrites a name from
//     an earlier cell to `exports.name`, but its rewrite asks the checker for the symbol at the
//     name, and at a shorthand property that is the property, not the variable: the name stayed
//     bare and threw "model is not defined" at run time. Each shorthand property is written out
//     (`{ model: model }`, the same object in JavaScript) before tslab compiles the cell, and the
//     positions of compile errors are mapped back to the cell as typed.
//  2. Errors: tslab prints a failing cell's error with Node's inspector, so every error carried
//     ~8 frames of tslab and Node internals (vm, executor.js, jupyter.js). It is printed as its
//     message plus the frames of the cell and the project (file names relative to the project).
//  3. The first cell: importing the library compiles it (several seconds, nothing shown). A line
//     appears at once; the library's initBackend() then shows the backend with the time taken.
//  4. Kernel messages one at a time per socket. tslab calls zeromq's `send` without waiting for the
//     previous one, and zeromq 6 refuses a send while another is in progress on the same socket
//     ("Socket is busy writing", EBUSY). A training loop that updates its progress line often met
//     it: the "busy" status of the next request was lost, and the cell failed with no error text.
//     Each socket's sends now queue behind each other, in order; one that fails is said on stderr.
//  5. Saving a project file while a cell runs. tslab's TypeScript host keeps one timer (the program
//     update it runs when the next cell compiles) and throws "Unexpected pending rebuildTimer" at a
//     second. TypeScript's watch sets a second one when a file appears or is renamed where an
//     import once failed to resolve (an editor saving lib/x.ts through a temporary file does), so
//     the running cell showed an UncaughtException. That timer, which re-resolves the failed
//     imports, now runs on a Node timer as in TypeScript's own watch; the program update keeps
//     tslab's slot, so the next cell still compiles against the saved file.
'use strict';
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
/** Where the first lib-importing cell started (lib/backend reads it for "ready in N s"). */
const FIRST_CELL_MARK = Symbol.for('tfjs-finetune-notebooks.firstCellStartedAt');

/** The TypeScript tslab compiles cells with (its own copy, not the project's). */
function tslabTypeScript() {
  return require(
    require.resolve('@tslab/typescript-for-tslab', { paths: [require.resolve('tslab')] }),
  );
}

function warn(what, why) {
  process.stderr.write(`tslab-preload: ${what} left as tslab has it (${why})\n`);
}

// ---------------------------------------------------------------------------------------------
// 1. Shorthand properties
// ---------------------------------------------------------------------------------------------

/**
 * `src` with every shorthand property assignment written out (`{ a }` -> `{ a: a }`,
 * `{ a = 1 } = o` -> `{ a: a = 1 } = o`), and the offsets where text was inserted.
 */
function expandShorthand(ts, src) {
  const file = ts.createSourceFile('cell.ts', src, ts.ScriptTarget.ES2022, true);
  const inserts = []; // { at: offset in src, text }
  const visit = (node) => {
    if (ts.isShorthandPropertyAssignment(node)) {
      inserts.push({
        at: node.name.getEnd(),
        name: node.name.getStart(),
        text: `: ${node.name.text}`,
      });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  if (inserts.length === 0) return { src, inserts };
  inserts.sort((a, b) => a.at - b.at);
  let out = '';
  let last = 0;
  for (const ins of inserts) {
    out += src.slice(last, ins.at) + ins.text;
    last = ins.at;
  }
  return { src: out + src.slice(last), inserts };
}

/**
 * Map an offset in the expanded text back to the cell as typed; an offset inside a written-out
 * value (where the compiler reports an unknown name) maps to the shorthand name (`end`: its end).
 */
function originalOffset(offset, inserts, end = false) {
  let shift = 0;
  for (const ins of inserts) {
    const at = ins.at + shift; // where the insert sits in the expanded text
    if (offset <= at) break;
    if (offset < at + ins.text.length || (end && offset === at + ins.text.length))
      return end ? ins.at : ins.name;
    shift += ins.text.length;
  }
  return offset - shift;
}

function position(src, offset) {
  const before = src.slice(0, offset).split('\n');
  return { offset, line: before.length - 1, character: before[before.length - 1].length };
}

function patchConverter() {
  let converter;
  let ts;
  try {
    converter = require('tslab/dist/converter');
    ts = tslabTypeScript();
  } catch (e) {
    return warn('shorthand properties', e.message);
  }
  const create = converter.createConverter;
  if (typeof create !== 'function' || typeof ts.isShorthandPropertyAssignment !== 'function') {
    return warn('shorthand properties', 'tslab/dist/converter has no createConverter');
  }
  converter.createConverter = function createConverter(...args) {
    const conv = create.apply(this, args);
    const convert = conv.convert;
    conv.convert = function (prevDecl, src) {
      let expanded;
      try {
        expanded = expandShorthand(ts, src);
      } catch {
        return convert.call(this, prevDecl, src); // tslab reports the syntax error itself
      }
      const result = convert.call(this, prevDecl, expanded.src);
      if (expanded.inserts.length && result.diagnostics) {
        for (const d of result.diagnostics) {
          if (d.fileName) continue; // an error in another file: not shifted
          d.start = position(src, originalOffset(d.start.offset, expanded.inserts));
          d.end = position(src, originalOffset(d.end.offset, expanded.inserts, true));
        }
      }
      return result;
    };
    return conv;
  };
}

// ---------------------------------------------------------------------------------------------
// 2. Errors without tslab's frames, 3. the first cell's line
// ---------------------------------------------------------------------------------------------

/** A stack frame that belongs to tslab, Node or the cell wrapper rather than to the user's code. */
const INTERNAL_FRAME = [
  /\(node:/,
  /^\s*at node:/,
  /[\\/]node_modules[\\/]tslab[\\/]/,
  /sigintHandlersWrap/,
  /runInThisContext/,
  /tslab-preload\.cjs/,
];

function cleanFrame(line) {
  if (INTERNAL_FRAME.some((re) => re.test(line))) return null;
  // The cell is compiled to an anonymous vm script: its line numbers are of tslab's output.
  if (/evalmachine\.<anonymous>/.test(line)) {
    const fn = /^\s*at (?:async )?([^\s(]+) \(evalmachine/.exec(line);
    return fn ? `    at ${fn[1]} (in a cell)` : null;
  }
  // Library files run as tslab's JavaScript output (lib/x.js); name the file as written.
  return line.replace(
    /\(([^()]+?):(\d+):(\d+)\)$|at ([^()\s]+?):(\d+):(\d+)$/,
    (m, f1, _l, _c, f2) => {
      const file = f1 ?? f2;
      let rel = path.relative(ROOT, file);
      if (rel.startsWith('..')) rel = file;
      else rel = rel.replace(/\.js$/, '.ts');
      return f1 ? `(${rel})` : `at ${rel}`;
    },
  );
}

/** "Name: message" and the frames that are the user's or the project's; `cause` below it. */
function formatError(e, depth = 0) {
  const stack = typeof e.stack === 'string' ? e.stack : `${e.name}: ${e.message}`;
  let lines = stack.split('\n');
  // Node puts the failing line of tslab's compiled cell (with a caret) above a vm error's stack.
  if (/^evalmachine\.<anonymous>:\d+$/.test(lines[0]) && lines.indexOf('') > 0) {
    lines = lines.slice(lines.indexOf('') + 1);
  }
  const frameAt = lines.findIndex((l) => /^\s+at /.test(l));
  const head = frameAt < 0 ? lines : lines.slice(0, frameAt);
  const frames = frameAt < 0 ? [] : lines.slice(frameAt).map(cleanFrame).filter(Boolean);
  let text = [...head, ...frames].join('\n');
  if (e.cause instanceof Error && depth < 3)
    text += `\nCaused by: ${formatError(e.cause, depth + 1)}`;
  return text;
}

/** tslab's own error for an interrupted cell: its stack is all tslab. */
function isTslabInterrupt(e) {
  return e instanceof Error && e.message === 'Interrupted asynchronously';
}

const LIB_IMPORT = /(?:from\s+|require\(\s*|import\(\s*)['"]\.\/lib(?:\/index)?['"]/;

function patchExecutor() {
  let executor;
  try {
    executor = require('tslab/dist/executor');
  } catch (e) {
    return warn('error output and first-cell line', e.message);
  }
  const create = executor.createExecutor;
  if (typeof create !== 'function') {
    return warn('error output and first-cell line', 'tslab/dist/executor has no createExecutor');
  }
  executor.createExecutor = function createExecutor(rootDir, convs, console) {
    const cleanConsole = {
      log: console.log,
      error: (...args) => {
        if (args.length === 1 && isTslabInterrupt(args[0])) {
          // The library already said what stopped and what was kept (lib/io/interrupt.ts): one line.
          const reported = globalThis[Symbol.for('tfjs-finetune-notebooks.interruptReported')];
          if (typeof reported === 'number' && Date.now() - reported < 10000) return undefined;
          return console.error('Interrupted (Kernel > Interrupt).');
        }
        // The library's own "stopped on Interrupt" error (Python's name for it): its message only.
        if (args.length === 1 && args[0] instanceof Error && args[0].name === 'KeyboardInterrupt') {
          return console.error(args[0].message);
        }
        if (args.length === 1 && args[0] instanceof Error)
          return console.error(formatError(args[0]));
        return console.error(...args);
      },
    };
    const ex = create.call(this, rootDir, convs, cleanConsole);
    const execute = ex.execute;
    let libLoaded = false;
    ex.execute = async function (src) {
      if (!libLoaded && LIB_IMPORT.test(src)) {
        libLoaded = true;
        globalThis[FIRST_CELL_MARK] = Date.now();
        process.stdout.write(
          'starting the backend… (the first cell also compiles the library; later cells start at once)\n',
        );
        // tslab compiles the cell synchronously next: let the line leave for the browser first.
        await new Promise((r) => setTimeout(r, 20));
      }
      return execute.call(this, src);
    };
    return ex;
  };
}

// ---------------------------------------------------------------------------------------------
// 4. Kernel messages one at a time per socket
// ---------------------------------------------------------------------------------------------

/**
 * Make zeromq's `send` queue each message behind the previous one on the same socket (zeromq 6
 * allows one send in progress per socket). `zmq` is the zeromq module. The promise `send` returns
 * never rejects: a lost message is said on stderr. Returns false when zeromq's shape differs.
 */
function serialiseSends(zmq) {
  let owner = zmq && zmq.Publisher && zmq.Publisher.prototype;
  while (owner && !Object.prototype.hasOwnProperty.call(owner, 'send'))
    owner = Object.getPrototypeOf(owner);
  const d = owner && Object.getOwnPropertyDescriptor(owner, 'send');
  if (!d || typeof d.value !== 'function' || !d.configurable) return false;
  if (d.value.serialised) return true;
  const original = d.value;
  // zeromq's sockets are not extensible: the queue of each is kept here, not on the socket.
  const queues = new WeakMap();
  const send = function send(message) {
    const last = (queues.get(this) || Promise.resolve())
      .then(() => original.call(this, message))
      .catch((e) => {
        process.stderr.write(`tslab-preload: a kernel message was not sent (${e.message})\n`);
      });
    queues.set(this, last);
    return last;
  };
  send.serialised = true;
  Object.defineProperty(owner, 'send', { ...d, value: send });
  return true;
}

function patchSockets() {
  let zmq;
  try {
    // tslab's own zeromq (the one its kernel sockets come from)
    const tslabDir = path.dirname(require.resolve('tslab/package.json'));
    zmq = require(require.resolve('zeromq', { paths: [tslabDir] }));
  } catch (e) {
    return warn('message sending', e.message);
  }
  if (!serialiseSends(zmq)) warn('message sending', "zeromq's Socket has no replaceable send");
}

// ---------------------------------------------------------------------------------------------
// 5. Saving a project file while a cell runs
// ---------------------------------------------------------------------------------------------

/** The callback TypeScript's watch schedules to re-resolve imports that failed (TypeScript 5.0). */
const FAILED_LOOKUP_TIMER = 'invalidateResolutionsOfFailedLookup';

/**
 * tslab gives its TypeScript host timers by assigning `setTimeout`/`clearTimeout` on an object made
 * with `Object.create(ts.sys)`. Accessors on `ts.sys` receive those assignments: each such object
 * gets timers that hand TypeScript's failed-lookup timer to Node and every other one to tslab's.
 * Returns false when `tsSys` has no timers to wrap.
 */
function giveFailedLookupsTheirOwnTimer(tsSys) {
  if (!tsSys || typeof tsSys.setTimeout !== 'function' || typeof tsSys.clearTimeout !== 'function')
    return false;
  if (tsSys.failedLookupTimersRouted) return true;
  const own = { setTimeout: tsSys.setTimeout, clearTimeout: tsSys.clearTimeout };
  const assigned = new WeakMap(); // an object built on ts.sys -> the timers assigned to it
  const nodeTimers = new Set();
  const routed = (target) => ({
    setTimeout(callback, ms, ...args) {
      if (!callback || callback.name !== FAILED_LOOKUP_TIMER)
        return target.setTimeout(callback, ms, ...args);
      const handle = setTimeout(() => {
        nodeTimers.delete(handle);
        callback(...args);
      }, ms);
      handle.unref();
      nodeTimers.add(handle);
      return handle;
    },
    clearTimeout(handle) {
      if (!nodeTimers.delete(handle)) return target.clearTimeout(handle);
      clearTimeout(handle);
    },
  });
  for (const name of ['setTimeout', 'clearTimeout']) {
    Object.defineProperty(tsSys, name, {
      configurable: true,
      enumerable: true,
      get() {
        if (this === tsSys) return own[name];
        const timers = assigned.get(this);
        return timers ? timers.routed[name] : own[name];
      },
      set(fn) {
        if (this === tsSys) return void (own[name] = fn);
        let timers = assigned.get(this);
        if (!timers) {
          const target = { ...own };
          timers = { target, routed: routed(target) };
          assigned.set(this, timers);
        }
        timers.target[name] = fn;
      },
    });
  }
  Object.defineProperty(tsSys, 'failedLookupTimersRouted', { value: true });
  return true;
}

function patchWatchTimers() {
  let ts;
  try {
    ts = tslabTypeScript();
  } catch (e) {
    return warn('timers of saved files', e.message);
  }
  if (!giveFailedLookupsTheirOwnTimer(ts.sys))
    warn('timers of saved files', "TypeScript's sys has no timers");
}

module.exports = {
  expandShorthand,
  originalOffset,
  formatError,
  serialiseSends,
  giveFailedLookupsTheirOwnTimer,
  FIRST_CELL_MARK,
};

if (!process.env.TSLAB_PRELOAD_OFF) {
  patchConverter();
  patchExecutor();
  patchSockets();
  patchWatchTimers();
}
