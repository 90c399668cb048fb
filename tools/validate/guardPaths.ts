/**
 * Where cfn-guard and the Control Tower rules live: both ship in the npm package
 * @cdklabs/cdk-validator-cfnguard, so `npm install` (package-lock.json) pins them with everything else.
 * https://github.com/cdklabs/cdk-validator-cfnguard#bundled-control-tower-rules
 */
import * as path from 'path';

export const GUARD_PACKAGE_DIR = path.dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json'));

/** Every Control Tower proactive control, as cfn-guard rule files (one directory tree). */
export const GUARD_RULES_DIR = path.join(GUARD_PACKAGE_DIR, 'rules', 'control-tower', 'cfn-guard');

// The package's directory names (its own CfnGuardValidator picks the same way:
// cfn-guard calls every Linux build "ubuntu").
const PLATFORMS: Readonly<Record<string, string>> = { linux: 'ubuntu', darwin: 'macos' };
const ARCHITECTURES: Readonly<Record<string, string>> = { x64: 'x86_64', arm64: 'aarch64' };

/** The packaged cfn-guard binary for `platform`/`arch` (Node's names); throws naming what is unsupported. */
export function guardBinaryPath(platform: string = process.platform, arch: string = process.arch): string {
  const os = PLATFORMS[platform];
  const cpu = ARCHITECTURES[arch];
  if (os === undefined || cpu === undefined) {
    throw new Error(
      `cfn-guard: no packaged binary for platform ${platform}/${arch}; @cdklabs/cdk-validator-cfnguard ships ` +
        `${Object.keys(PLATFORMS).join(', ')} on ${Object.keys(ARCHITECTURES).join(', ')} only`,
    );
  }
  return path.join(GUARD_PACKAGE_DIR, 'bin', os, cpu, 'cfn-guard');
}
