import { exportRows, exportsTable } from '../../../tools/review/exportsTable';
import { JsonObject } from '../../../cfn/lib/template';
import { templates } from '../../support/assertions';

const exported = (key: string, description: string): JsonObject => ({
  Description: description,
  Value: { Ref: 'X' },
  Export: { Name: { 'Fn::Sub': `tap-\${EnvironmentSuffix}-${key}` } },
});
const imported = (key: string): JsonObject => ({ 'Fn::ImportValue': { 'Fn::Sub': `tap-\${EnvironmentSuffix}-${key}` } });

const fixture = new Map<string, JsonObject>([
  ['AStack', { Resources: {}, Outputs: { VpcId: exported('VpcId', 'VPC | main'), Local: { Description: 'not exported', Value: 'x' } } }],
  ['BStack', { Resources: { Fn: { Type: 'T', Properties: { Vpc: imported('VpcId'), Gone: imported('Missing') } } }, Outputs: { FnArn: exported('FnArn', 'function') } }],
  ['CStack', { Resources: { Sg: { Type: 'T', Properties: { Vpc: imported('VpcId') } } } }],
  ['Root', { Resources: { Gate: { Type: 'Custom::G', Properties: { ServiceToken: { 'Fn::GetAtt': ['BStack', 'Outputs.FnArn'] } } } } }],
]);

describe('exportsTable', () => {
  test('GIVEN fixture templates WHEN rows are built THEN each export lists its exporter, output and every importer or GetAtt reader', () => {
    expect(exportRows(fixture)).toEqual([
      { exportName: 'tap-${EnvironmentSuffix}-VpcId', exporter: 'AStack', output: 'VpcId', description: 'VPC | main', importers: ['BStack', 'CStack'] },
      { exportName: 'tap-${EnvironmentSuffix}-FnArn', exporter: 'BStack', output: 'FnArn', description: 'function', importers: ['Root (GetAtt)'] },
    ]);
  });

  test('GIVEN fixture templates WHEN rendered THEN the markdown escapes pipes and names imports no template exports', () => {
    const md = exportsTable(fixture);
    expect(md.split('\n')).toEqual([
      '| Export name | Exported by (output) | Used by | What |',
      '| --- | --- | --- | --- |',
      '| `tap-${EnvironmentSuffix}-VpcId` | AStack (`VpcId`) | BStack, CStack | VPC \\| main |',
      '| `tap-${EnvironmentSuffix}-FnArn` | BStack (`FnArn`) | Root (GetAtt) | function |',
      '',
      '- `tap-${EnvironmentSuffix}-Missing`, imported by BStack, is exported by no template',
      '',
    ]);
  });

  test('GIVEN the real templates WHEN tabulated THEN every export appears once and no import dangles', () => {
    const rows = exportRows(templates());
    const outputsWithExport = [...templates().values()].flatMap((t) => Object.values((t.Outputs ?? {}) as Record<string, JsonObject>).filter((o) => o.Export !== undefined));
    expect(rows).toHaveLength(outputsWithExport.length);
    expect(exportsTable(templates())).not.toMatch(/exported by no template/);
  });
});
