// Run by scripts/packaging.int.test.ts in an empty project where only the packed tarball (and
// what npm installs for it) is present: once with `lib` from `import`, once from `require`.
// It makes a real repository with isomorphic-git (no git binary needed) and links into it.
export default async function smoke(lib, load) {
  const fs = load('node:fs');
  const { join } = load('node:path');
  const { tmpdir } = load('node:os');
  const git = load('isomorphic-git');
  const dir = fs.realpathSync(fs.mkdtempSync(join(tmpdir(), 'flyte-git-smoke-')));
  try {
    fs.writeFileSync(join(dir, 'task.ts'), 'export const task = 1;\n');
    await git.init({ fs, dir, defaultBranch: 'main' });
    await git.add({ fs, dir, filepath: 'task.ts' });
    const author = { name: 'smoke', email: 'smoke@example.invalid' };
    const sha = await git.commit({ fs, dir, message: 'smoke', author });
    await git.addRemote({
      fs,
      dir,
      remote: 'origin',
      url: 'https://token@github.com/acme/etl.git',
    });
    const status = await lib.GitStatus.fromRepo(dir);
    if (!status.isValid || status.commitSha !== sha) throw new Error(`status: ${status.reason}`);
    if (status.remoteUrl !== 'https://github.com/acme/etl') throw new Error(status.remoteUrl);
    if (status.isTreeClean !== true) throw new Error(`dirty: ${status.firstChange}`);
    const link = await lib.linkForDefinition({ file: join(dir, 'task.ts'), line: 1, column: 1 });
    if (link.url !== `https://github.com/acme/etl/blob/${sha}/task.ts#L1`) {
      throw new Error(`link: ${link.url} (${link.reason})`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
