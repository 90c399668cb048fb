import { assertWindowsDisjoint, windowsOverlap } from '../../cfn/lib/windows';

describe('backup and maintenance windows', () => {
  test.each([
    ['03:00-04:00', 'sun:04:30-sun:05:30', false],
    ['03:00-04:00', 'sun:04:00-sun:05:00', false],
    ['03:00-04:00', 'wed:03:30-wed:04:30', true],
    ['03:00-04:00', 'sat:23:00-sun:03:30', true],
    ['23:30-00:30', 'mon:00:00-mon:00:30', true],
    ['23:30-00:30', 'sun:23:45-mon:00:15', true],
    ['23:30-00:30', 'tue:01:00-tue:02:00', false],
  ])('GIVEN backup window %s and maintenance window %s WHEN compared THEN overlap is %s', (backup, maintenance, overlap) => {
    expect(windowsOverlap(backup, maintenance)).toBe(overlap);
  });

  test.each([
    ['3:00-04:00', 'sun:04:30-sun:05:30', 'PreferredBackupWindow'],
    ['03:00-04:00', 'sunday:04:30-sun:05:30', 'PreferredMaintenanceWindow'],
    ['03:00-04:00', 'xyz:04:30-sun:05:30', 'PreferredMaintenanceWindow'],
  ])('GIVEN a malformed window (%s, %s) WHEN compared THEN the error names %s', (backup, maintenance, option) => {
    expect(() => windowsOverlap(backup, maintenance)).toThrow(option);
  });

  test('GIVEN overlapping windows WHEN asserted disjoint THEN the error names both windows and why RDS refuses them', () => {
    expect(() => assertWindowsDisjoint('03:00-04:00', 'wed:03:30-wed:04:30')).toThrow(
      'PreferredBackupWindow 03:00-04:00 overlaps PreferredMaintenanceWindow wed:03:30-wed:04:30; RDS rejects overlapping windows',
    );
  });
});
