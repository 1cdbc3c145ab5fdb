import { describe, expect, it } from 'vitest';
import { parseStatus } from '../../src/aria2/types.js';
import { SPEED_HISTORY_SAMPLES, SpeedHistory } from '../../src/services/speed-history.js';
import { filesOf, peerClient, peersOf, serversOf, shownPath } from '../../src/services/task-detail.js';

const DIR = '/srv/data/downloads/7/.incomplete/abc';

function status(completedLength: number, files: [number, number, boolean][]) {
  return parseStatus({
    completedLength: String(completedLength),
    files: files.map(([length, completed, selected], i) => ({
      index: String(i + 1),
      path: `${DIR}/pack/f${i + 1}.bin`,
      length: String(length),
      completedLength: String(completed),
      selected: String(selected),
    })),
  });
}

describe('file progress agrees with the task', () => {
  it("shares the task's bytes out in proportion to aria2's whole pieces, capped at each file's length", () => {
    const files = filesOf(
      DIR,
      status(250_000, [
        [100_000, 98_304, true],
        [200_000, 131_072, true],
        [50_000, 0, false],
      ]),
    );
    expect(files.map((f) => f.path)).toEqual(['pack/f1.bin', 'pack/f2.bin', 'pack/f3.bin']);
    expect(files.reduce((n, f) => n + f.completed_length, 0)).toBe(250_000);
    for (const f of files) expect(f.completed_length).toBeLessThanOrEqual(f.length);
    expect(files[2]!.completed_length).toBe(0);
  });

  it('a download with bytes but no whole piece yet still adds up', () => {
    const files = filesOf(DIR, status(10_000, [[1_000_000, 0, true]]));
    expect(files[0]!.completed_length).toBe(10_000);
  });

  it("leaves aria2's figures alone when they already agree", () => {
    const files = filesOf(DIR, status(300, [[1000, 300, true]]));
    expect(files[0]!.completed_length).toBe(300);
  });
});

describe('paths shown', () => {
  it("shows aria2's [METADATA] entry and anything outside the task folder by name only", () => {
    expect(shownPath(DIR, '[METADATA]Some.Linux.Distro.iso')).toBe('[METADATA]Some.Linux.Distro.iso');
    expect(shownPath(DIR, '/etc/passwd')).toBe('passwd');
    expect(shownPath(DIR, `${DIR}/../other/x.bin`)).toBe('x.bin');
    expect(shownPath(DIR, `${DIR}/a/b.bin`)).toBe('a/b.bin');
  });
});

describe('peers', () => {
  it('names well-known clients from their peer id, and says null for others', () => {
    expect(peerClient('-qB4250-abcdefghijkl')).toBe('qBittorrent 4.2.5');
    expect(peerClient('A2-1-37-0-%01%02')).toBe('aria2 1.37.0');
    expect(peerClient('-ZZ0001-abcdefghijkl')).toBeNull();
    expect(peerClient('%zz')).toBeNull();
    expect(peerClient(undefined)).toBeNull();
  });

  it('gives the address, speeds and progress of each peer', () => {
    const [p] = peersOf(
      [
        {
          ip: '::1',
          port: 6881,
          peerId: '-TR3000-x',
          downloadSpeed: 10,
          uploadSpeed: 5,
          bitfield: 'f0',
          seeder: false,
        },
      ],
      8,
    );
    expect(p).toEqual({
      address: '[::1]:6881',
      client: 'Transmission 3.0.0',
      download_speed: 10,
      upload_speed: 5,
      progress: 0.5,
      seeder: false,
    });
  });
});

describe('servers', () => {
  it('gives the file, speed and both URIs of each connection, with credentials masked', () => {
    const servers = serversOf([
      {
        fileIndex: 2,
        uri: 'http://user:secret@127.0.0.1:8080/a.bin',
        currentUri: 'http://127.0.0.1:8081/a.bin?x=1',
        downloadSpeed: 42,
      },
    ]);
    expect(servers).toEqual([
      {
        file_index: 2,
        uri: 'http://***:***@127.0.0.1:8080/a.bin',
        current_uri: 'http://127.0.0.1:8081/a.bin?x=1',
        download_speed: 42,
      },
    ]);
    expect(JSON.stringify(servers)).not.toContain('secret');
  });
});

describe('speed history', () => {
  it('keeps one sample a second, a bounded number of them, and forgets a task that stopped', () => {
    const h = new SpeedHistory();
    for (let i = 0; i < SPEED_HISTORY_SAMPLES + 20; i++) h.record(1, i, 0, `t${i}`);
    h.record(1, 999, 1, `t${SPEED_HISTORY_SAMPLES + 19}`);
    const got = h.get(1);
    expect(got).toHaveLength(SPEED_HISTORY_SAMPLES);
    expect(got[0]!.t).toBe('t20');
    expect(got.at(-1)).toEqual({ t: `t${SPEED_HISTORY_SAMPLES + 19}`, down: 999, up: 1 });
    h.drop(1);
    expect(h.get(1)).toEqual([]);
  });
});
