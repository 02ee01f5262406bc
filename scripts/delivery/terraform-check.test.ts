import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkTerraform, interpolations, referencesIn } from './terraform-check.ts';

const GOOGLE = `terraform {
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 7.45"
    }
  }
}
`;

/** A module with one required and one optional variable, one output, and the env that calls it. */
const CLEAN: Record<string, string> = {
  'modules/m/versions.tf': GOOGLE,
  'modules/m/variables.tf': `variable "name" {
  type = string
}

variable "size" {
  type    = number
  default = 1
}
`,
  'modules/m/main.tf': `locals {
  full = "\${var.name}-\${var.size}"
}

resource "google_compute_network" "this" {
  name = local.full
}
`,
  'modules/m/outputs.tf': `output "id" {
  value = google_compute_network.this.id
}
`,
  'envs/dev/versions.tf': GOOGLE,
  'envs/dev/providers.tf': `provider "google" {
  project = var.project_id
}
`,
  'envs/dev/variables.tf': `variable "project_id" {
  type = string
}
`,
  'envs/dev/main.tf': `module "m" {
  source = "../../modules/m"

  name = "eta-\${var.project_id}"
}
`,
  'envs/dev/outputs.tf': `output "network" {
  value = module.m.id
}
`,
};

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Writes CLEAN with the given files replaced (or added, or removed with null) and checks it. */
async function check(changes: Record<string, string | null> = {}): Promise<string[]> {
  const root = mkdtempSync(join(tmpdir(), 'tf-check-'));
  dirs.push(root);
  for (const [path, text] of Object.entries({ ...CLEAN, ...changes })) {
    if (text === null) continue;
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return checkTerraform(root, root);
}

const edit = (path: string, from: string, to: string): Record<string, string> => {
  const text = CLEAN[path];
  if (text === undefined || !text.includes(from)) throw new Error(`fixture ${path} has no ${from}`);
  return { [path]: text.replace(from, to) };
};

describe('terraform-check', () => {
  it('passes a tree whose calls, references and providers all match', async () => {
    expect(await check()).toEqual([]);
  });

  it('refuses an argument the module has no variable for', async () => {
    const problems = await check(edit('envs/dev/main.tf', 'name = ', 'colour = "red"\n  name = '));
    expect(problems).toEqual([
      'envs/dev/main.tf: module "m": argument "colour" is not a variable of modules/m',
    ]);
  });

  it('refuses a call that leaves out a variable without a default', async () => {
    const problems = await check(edit('envs/dev/main.tf', '  name = "eta-${var.project_id}"\n', ''));
    expect(problems).toContain(
      'envs/dev/main.tf: module "m": required variable "name" of modules/m is not passed',
    );
  });

  it('refuses a reference to an output the module does not have, and to an unknown module call', async () => {
    const problems = await check({
      'envs/dev/outputs.tf': `output "network" {
  value = module.m.self_link
}

output "other" {
  value = module.n.id
}
`,
    });
    expect(problems).toEqual([
      'envs/dev/outputs.tf: output "network": module.m.self_link is not an output of modules/m',
      'envs/dev/outputs.tf: output "other": module.n is not a module call of envs/dev',
    ]);
  });

  it('refuses an undeclared var. and local., also inside a template and a nested block', async () => {
    const problems = await check({
      'modules/m/main.tf': `locals {
  full = "\${var.name}-\${var.colour}"
}

resource "google_compute_network" "this" {
  name = local.full

  timeouts {
    create = local.create_timeout
  }
}
`,
    });
    expect(problems).toEqual([
      'modules/m/main.tf: local "full": var.colour is not a declared variable',
      'modules/m/main.tf: resource "google_compute_network" "this": local.create_timeout is not a declared local',
    ]);
  });

  it('refuses a provider the env does not declare, or declares with another constraint', async () => {
    const missing = await check({
      'envs/dev/versions.tf': 'terraform {\n  required_version = ">= 1.11"\n}\n',
    });
    expect(missing).toContain(
      'envs/dev: provider "google" (required by modules/m) is not in its required_providers',
    );
    const other = await check(edit('envs/dev/versions.tf', '~> 7.45', '~> 6.0'));
    expect(other).toEqual([
      'envs/dev/versions.tf: provider "google" version "~> 6.0" differs from "~> 7.45" in modules/m',
    ]);
  });

  it('refuses a module that configures a provider or uses one it does not declare', async () => {
    const problems = await check({
      'modules/m/versions.tf': null,
      'modules/m/providers.tf': 'provider "google" {}\n',
    });
    expect(problems).toContain(
      'modules/m/providers.tf: a called module must not configure a provider (provider block)',
    );
    expect(problems).toContain(
      'modules/m/main.tf: uses provider "google" but modules/m does not declare it in required_providers',
    );
  });

  it('refuses a source that is not a local module directory', async () => {
    const registry = await check(
      edit('envs/dev/main.tf', '../../modules/m', 'terraform-google-modules/network/google'),
    );
    expect(registry).toContain(
      'envs/dev/main.tf: module "m": source "terraform-google-modules/network/google" is not a local path (./ or ../)',
    );
    const missing = await check(edit('envs/dev/main.tf', '../../modules/m', '../../modules/gone'));
    expect(missing).toContain(
      'envs/dev/main.tf: module "m": source "../../modules/gone" is not a directory of .tf files',
    );
  });

  it('refuses a name declared twice and a file that is not valid HCL', async () => {
    // Files are read in name order, so more.tf is the first declaration and variables.tf the second.
    const twice = await check({
      'modules/m/more.tf': 'variable "size" {\n  type = number\n  default = 2\n}\n',
    });
    expect(twice).toEqual([
      'modules/m/variables.tf: variable "size" is declared a second time (first in modules/m/more.tf)',
    ]);
    const broken = await check({
      'modules/m/main.tf': 'resource "google_compute_network" "this" {\n  name = \n',
    });
    expect(broken).toHaveLength(1);
    expect(broken[0]).toMatch(/^modules\/m: does not parse: /);
  });
});

describe('references', () => {
  it('finds interpolations and skips escaped ones', () => {
    expect(interpolations('a ${var.x} $${var.literal} %{ if local.y }b%{ endif } ${f("}")}')).toEqual([
      'var.x',
      ' if local.y ',
      ' endif ',
      'f("}")',
    ]);
  });

  it('reads module outputs through an index, and not attributes of other objects', () => {
    expect(referencesIn('module.m["a"].id + each.value.var.x + var.y')).toEqual([
      { kind: 'module', name: 'm', attr: 'id' },
      { kind: 'var', name: 'y' },
    ]);
  });
});
