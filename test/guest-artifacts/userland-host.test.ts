// The guest's programs, compiled for the host with the same nolibc, and driven here: the shell
// (argument parsing, builtins, exit statuses, and line editing on a real pty via script(1)),
// pcm's error lines, cpubench's checksum. Syscall details specific to rv32 are exercised only
// in the guest; the logic is the same source.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GUEST_BUILD_TIMEOUT_MS, linuxTree, repoRoot } from './artifacts';

const KBENCH = ['forkbench', 'pfbench', 'pipebench', 'sysbench'] as const;
let dir = '';
const bin: Record<string, string> = {};

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'guest-host-'));
  const src = join(repoRoot(), 'guest', 'src');
  const nolibc = join(linuxTree(), 'tools', 'include', 'nolibc');
  for (const [name, files] of [['sh', ['sh.c', 'fileutil.c']], ['pcm', ['pcm.c', 'dsp.c']], ['cpubench', ['cpubench.c']], ['fsbench', ['fsbench.c']], ['init', ['init.c']], ...KBENCH.map((n) => [n, [`${n}.c`]] as const)] as const) {
    bin[name] = join(dir, name);
    execFileSync('gcc', ['-Os', '-static', '-nostdlib', '-ffreestanding', '-fno-stack-protector', '-fno-asynchronous-unwind-tables',
      '-Wall', '-Wextra', '-Werror', '-Wno-unused-parameter', '-I', nolibc, '-I', src, ...files.map((f) => join(src, f)), '-o', bin[name]]);
  }
}, { timeout: GUEST_BUILD_TIMEOUT_MS });

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function run(name: string, args: string[], opts: { cwd?: string; input?: string } = {}): { status: number | null; out: string; err: string } {
  const r = spawnSync(bin[name], args, { encoding: 'utf8', timeout: 30_000, cwd: opts.cwd, input: opts.input ?? '' });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

test('sh -c: words, quotes, escapes, comments and ";"', () => {
  const r = run('sh', ['-c', 'echo a  "b  c" \'d;e\' f\\ g # not this; echo second; echo -n x; echo y']);
  assert.equal(r.status, 0, r.err);
  assert.equal(r.out, 'a b  c d;e f g\nsecond\nxy\n');
});

test('sh -c: exit status of the last command, and messages for failures', () => {
  let r = run('sh', ['-c', '/bin/false']);
  assert.equal(r.status, 1);
  assert.equal(r.err, 'sh: /bin/false: exit status 1\n');
  r = run('sh', ['-c', 'no-such-tool-here']);
  assert.equal(r.status, 127);
  assert.match(r.err, /^sh: no-such-tool-here: not found/);
  r = run('sh', ['-c', 'ls /no/such/dir; echo after']);
  assert.equal(r.status, 0);
  assert.equal(r.out, 'after\n');
  assert.match(r.err, /ls \/no\/such\/dir: no such file or directory/);
  r = run('sh', ['-c', 'exit 42; echo never']);
  assert.equal(r.status, 42);
  assert.equal(r.out, '');
  r = run('sh', ['-c', "/bin/sh -c 'kill -9 $$'"]);
  assert.match(r.err, /killed by SIGKILL \(9\)/);
  assert.equal(r.status, 137);
});

test('sh builtins: cat, ls, cd/pwd, sleep, uname, mount', () => {
  const work = join(dir, 'files');
  mkdirSync(join(work, 'sub'), { recursive: true });
  writeFileSync(join(work, 'hello.txt'), 'hello from a file\n');
  let r = run('sh', ['-c', `cat ${work}/hello.txt; ls ${work}; cd ${work}/sub; pwd`]);
  assert.equal(r.status, 0, r.err);
  const lines = r.out.split('\n');
  assert.equal(lines[0], 'hello from a file');
  assert.deepEqual(lines.slice(1, 3).sort(), ['hello.txt', 'sub']);
  assert.equal(lines[3], `${work}/sub`);
  r = run('sh', ['-c', `ls -l ${work}/hello.txt /dev/null`]);
  assert.match(r.out, /^-rw.* 18 .*hello\.txt$/m);
  assert.match(r.out, /^crw-rw-rw-\s+1,\s+3 \/dev\/null$/m);
  const t0 = Date.now();
  r = run('sh', ['-c', 'sleep 0.3']);
  assert.equal(r.status, 0);
  assert.ok(Date.now() - t0 >= 290, 'sleep 0.3 returned early');
  assert.equal(run('sh', ['-c', 'sleep abc']).status, 2);
  r = run('sh', ['-c', 'uname; uname -a']);
  assert.equal(r.out.split('\n')[0], 'Linux');
  assert.match(r.out.split('\n')[1], /^Linux \S+ \S+ .+ \S+$/);
  r = run('sh', ['-c', 'mount']);
  assert.equal(r.out, readFileSync('/proc/mounts', 'utf8'));
  r = run('sh', ['-c', 'cat'], { input: 'stdin passes through\n' });
  assert.equal(r.out, 'stdin passes through\n');
});

test('sh FILE runs its lines', () => {
  const script = join(dir, 'script.sh');
  writeFileSync(script, '# a comment\necho one\n\necho two; exit 3\necho never\n');
  const r = run('sh', [script]);
  assert.equal(r.out, 'one\ntwo\n');
  assert.equal(r.status, 3);
});

/** A step is typed once the next prompt appears, or `delayMs` after the previous step. */
type Step = string | { delayMs: number; text: string };

/** Runs the shell on a pty (script(1)) and types the steps. */
function interactive(steps: Step[]): Promise<{ out: string; code: number | null; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    // script(1) runs its command through $SHELL -c (or /bin/sh when SHELL is unset). dash does
    // not exec a lone command, and ^C would kill it (exit 130) instead of reaching our shell:
    // `exec` makes the guest's sh the pty's only foreground process whatever $SHELL is.
    const child = spawn('script', ['-qfec', `exec ${bin.sh}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let next = 0;
    let typed = 0; // prompt-triggered steps sent
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`interactive shell stalled; output so far:\n${JSON.stringify(out)}`));
    }, 20_000);
    let waiting = false; // a delayed step is pending: nothing after it may go first
    const send = (): void => {
      while (next < steps.length && !waiting) {
        const s = steps[next];
        if (typeof s === 'string') {
          if (out.split('# ').length - 1 <= typed) return;
          typed++;
          next++;
          child.stdin.write(s, 'latin1');
        } else {
          next++;
          waiting = true;
          setTimeout(() => {
            waiting = false;
            child.stdin.write(s.text, 'latin1');
            send();
          }, s.delayMs);
          return;
        }
      }
    };
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      send();
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ out, code, ms: Date.now() - t0 });
    });
  });
}

test('interactive: prompt, echo, backspace (0x7f and 0x08), ^U, escape sequences, any Enter', async () => {
  const r = await interactive([
    'ecx\x7fhoo\x08 typed\r',                 // DEL and BS both erase: "echo typed"
    'junk\x15echo killed line\n',            // ^U erases the line; Enter as \n
    'echo crlf\r\n',                          // \r\n is one Enter, not an empty line too
    '\x1b[A\x1b[Decho arrows ignored\r',     // cursor keys are swallowed
    'exit 9\r',
  ]);
  assert.equal(r.code, 9);
  const lines = r.out.split('\r\n');
  assert.ok(lines.includes('typed'), JSON.stringify(r.out));
  assert.ok(r.out.includes('ecx\b \bhoo\b \b typed\r\n'), 'backspace echo is "\\b \\b"');
  assert.ok(lines.includes('killed line'));
  assert.ok(lines.includes('crlf'));
  assert.ok(lines.includes('arrows ignored'));
  assert.equal((r.out.match(/# /g) ?? []).length, 5, 'one prompt per line: \\r\\n must not give an empty extra line');
});

test('interactive: ^C cancels the line being typed and interrupts a running command', async () => {
  const r = await interactive(['half a line', { delayMs: 300, text: '\x03' }, 'sleep 5\r', { delayMs: 400, text: '\x03' }, 'echo survived\r', 'exit 0\r']);
  assert.equal(r.code, 0);
  assert.match(r.out, /# half a line\^C\r\n# sleep 5\r\n\^C/);
  assert.ok(r.out.split('\r\n').includes('survived'), 'the shell must survive ^C');
  assert.ok(r.ms < 4000, `^C did not interrupt sleep 5 (${r.ms} ms)`);
});

test('sh: a command ending in & runs in the background and is reported when it ends', () => {
  const script = join(dir, 'bg.sh');
  writeFileSync(script, "/bin/sh -c 'sleep 0.3; echo bg-done; exit 4' &\necho fg\nsleep 0.6\necho after\n");
  const r = run('sh', [script]);
  assert.equal(r.status, 0, r.err);
  assert.equal(r.out, 'fg\nbg-done\nafter\n', 'the foreground went on while the background job ran');
  const pid = /^\[(\d+)\]$/m.exec(r.err)?.[1];
  assert.ok(pid, r.err);
  assert.match(r.err, new RegExp(`^\\[${pid}\\] done /bin/sh\nsh: /bin/sh: exit status 4$`, 'm'), 'reaped before the next line, with its status');
  const b = run('sh', ['-c', 'sleep 0.2 & echo now']);
  assert.equal(b.out, 'now\n', 'a builtin goes to the background too');
});

test('interactive: ^C interrupts the foreground, not a background job', async () => {
  const r = await interactive(['sleep 0.6 &\r', { delayMs: 150, text: '\x03' }, { delayMs: 900, text: '\r' }, 'exit 0\r']);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /\[\d+\] done sleep/, 'the job ran to its end');
  assert.doesNotMatch(r.out, /killed by|exit status/, 'the job did not see the ^C');
});

test('pcm: usage errors and missing devices end with a "pcm: error" line and a non-zero exit', () => {
  const cases: [string[], number, RegExp][] = [
    [[], 2, /^pcm: error usage: missing command$/m],
    [['dance'], 2, /^pcm: error usage: unknown command/m],
    [['play', '30000'], 2, /^pcm: error usage: FREQ must be above 0 and below half the rate$/m],
    [['play', '440', '0'], 2, /^pcm: error usage: SECONDS/m],
    [['rec', '-r', '12'], 2, /^pcm: error usage: -r RATE/m],
    [['rec', '-c', '9'], 2, /^pcm: error usage: -c CHANNELS/m],
    [['rec', '-F', 'S24'], 2, /^pcm: error usage: -F FORMAT/m],
    [['play', '-a', '1.5'], 2, /^pcm: error usage: -a AMPLITUDE/m],
    [['play', '-f', '/no/such.raw'], 1, /^pcm: error open \/no\/such\.raw: no such file or directory$/m],
    [['rec', '-D', '/no/such/pcm'], 1, /^pcm: error open \/no\/such\/pcm: no such file or directory$/m],
    [['play', '-D', '/dev/null'], 1, /^pcm: error hw_params rate\/channels\/format on \/dev\/null: inappropriate ioctl for device$/m],
  ];
  for (const [args, status, line] of cases) {
    const r = run('pcm', args);
    assert.equal(r.status, status, `pcm ${args.join(' ')}: ${r.out}${r.err}`);
    assert.match(r.out, line, `pcm ${args.join(' ')}`);
    const last = r.out.trim().split('\n').pop()!;
    assert.match(last, /^pcm: error /, `pcm ${args.join(' ')}: the last line must be the error`);
  }
  assert.equal(run('pcm', ['-h']).status, 0);
});

test('cpubench: the documented checksum, deterministic, with the documented line format', () => {
  const readme = readFileSync(join(repoRoot(), 'guest', 'README.md'), 'utf8');
  const documented = /10 -> `([0-9a-f]{8})`/.exec(readme);
  assert.ok(documented, 'guest/README.md documents the checksum of 10 rounds');
  const a = run('cpubench', ['10']);
  const b = run('cpubench', ['10']);
  const m = /^cpubench: ns=(\d+) iters=10 checksum=([0-9a-f]{8})\n$/.exec(a.out);
  assert.ok(m, a.out);
  assert.equal(m[2], documented[1]);
  assert.equal(b.out.replace(/ns=\d+/, ''), a.out.replace(/ns=\d+/, ''));
  assert.ok(Number(m[1]) > 0);
  assert.notEqual(run('cpubench', ['11']).out.slice(-9), a.out.slice(-9), 'the checksum depends on the rounds');
  assert.equal(run('cpubench', ['0']).status, 2);
  assert.equal(run('cpubench', ['x']).status, 2);
});

test('kernel benchmarks: each runs its rounds and prints one timing line; bad rounds are usage errors', () => {
  for (const name of KBENCH) {
    const r = run(name, ['3']);
    assert.equal(r.status, 0, `${name}: ${r.out}${r.err}`);
    const m = new RegExp(`^${name}: ns=(\\d+) iters=3 per_iter_ns=(\\d+)\n$`).exec(r.out);
    assert.ok(m, `${name}: ${r.out}`);
    assert.ok(Number(m[1]) > 0, `${name} measured no time`);
    assert.equal(Number(m[2]), Math.floor(Number(m[1]) / 3));
    for (const bad of [['0'], ['x'], ['1', '2']]) {
      const b = run(name, bad);
      assert.equal(b.status, 2, `${name} ${bad.join(' ')}`);
      assert.match(b.err, new RegExp(`^usage: ${name} \\[ROUNDS\\]`));
    }
  }
});

test('sh file commands: > and >>, cp, mv, rm -r, mkdir -p, rmdir, touch, ln [-s], stat, chmod, sync', () => {
  const work = join(dir, 'fileutil');
  mkdirSync(work, { recursive: true });
  let r = run('sh', ['-c', 'echo hello > a; echo more >> a; cp a b; mkdir -p x/y/z; mv b x/y; ln -s a lnk; ln a hard; chmod 600 a; touch t; > empty; sync'], { cwd: work });
  assert.equal(r.status, 0, r.err);
  assert.equal(readFileSync(join(work, 'a'), 'utf8'), 'hello\nmore\n');
  assert.equal(readFileSync(join(work, 'x/y/b'), 'utf8'), 'hello\nmore\n', 'mv into a directory');
  assert.equal(readlinkSync(join(work, 'lnk')), 'a');
  assert.equal(statSync(join(work, 'hard')).ino, statSync(join(work, 'a')).ino);
  assert.equal(statSync(join(work, 'a')).mode & 0o777, 0o600);
  assert.equal(statSync(join(work, 'empty')).size, 0);
  r = run('sh', ['-c', 'stat a lnk x'], { cwd: work });
  const a = statSync(join(work, 'a'));
  assert.match(r.out, new RegExp(`^a type=regular size=11 mode=0600 links=2 ino=${a.ino} uid=\\d+ gid=\\d+ mtime=\\d+\\.\\d{9}$`, 'm'));
  assert.match(r.out, /^lnk type=symlink size=1 .* target=a$/m);
  assert.match(r.out, /^x type=directory /m);
  r = run('sh', ['-c', 'rm -r x; rmdir x; rm nope; rm -f nope; cp a; echo x >'], { cwd: work });
  assert.equal(existsSync(join(work, 'x')), false, 'rm -r');
  assert.match(r.err, /^rmdir: x: no such file or directory$/m);
  assert.match(r.err, /^rm: nope: no such file or directory$/m);
  assert.equal(r.err.match(/nope/g)!.length, 1, 'rm -f is quiet');
  assert.match(r.err, /^usage: cp SRC DST/m);
  assert.match(r.err, /^sh: syntax error: no file after >$/m);
  r = run('sh', ['-c', 'mkdir d; rm d; chmod 999 a; ln -s'], { cwd: work });
  assert.match(r.err, /^rm: d: is a directory$/m);
  assert.match(r.err, /^usage: chmod OCTAL-MODE/m);
  assert.match(r.err, /^usage: ln \[-s\] TARGET LINK$/m);
  r = run('sh', ['-c', 'echo out >/nonexistent-dir/f; echo next'], { cwd: work });
  assert.match(r.err, /^sh: cannot create \/nonexistent-dir\/f: no such file or directory$/m);
  assert.equal(r.out, 'next\n', 'output goes back to the console after a redirection');
});

test('fsbench: the documented line on a host directory, usage errors exit 2', () => {
  const work = join(dir, 'fsbench-work');
  mkdirSync(work, { recursive: true });
  const r = run('fsbench', ['-k', work, '2']); // -k: the host's page cache is not ours to drop
  assert.equal(r.status, 0, r.err);
  const m = /^fsbench: dir=(\S+) mib=2 write_kBps=(\d+) read_kBps=(\d+) files_per_s=(\d+)\n$/.exec(r.out);
  assert.ok(m, r.out);
  assert.equal(m[1], work);
  assert.ok(Number(m[2]) > 0 && Number(m[3]) > 0 && Number(m[4]) > 0);
  assert.deepEqual(readdirSync(work), [], 'it cleans up');
  assert.equal(run('fsbench', []).status, 2);
  assert.equal(run('fsbench', [work, '0']).status, 2);
  assert.match(run('fsbench', ['-k', join(work, 'missing'), '1']).err, /^fsbench: error create .*missing\/fsbench\.dat: no such file or directory$/m);
});
