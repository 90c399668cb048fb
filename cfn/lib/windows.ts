/**
 * Arithmetic on RDS's UTC windows: the daily backup window (`hh:mm-hh:mm`) and
 * the weekly maintenance window (`ddd:hh:mm-ddd:hh:mm`), as minute-of-week
 * intervals, so a generator can prove the two never overlap, which RDS rejects
 * (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/USER_UpgradeDBInstance.Maintenance.html#AdjustingTheMaintenanceWindow.Aurora).
 */

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const MINUTES_PER_DAY = 24 * 60;
const MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY;

const minutesOf = (hhmm: string, what: string): number => {
  const m = /^([01][0-9]|2[0-3]):([0-5][0-9])$/.exec(hhmm);
  if (m === null) throw new Error(`${what}: ${JSON.stringify(hhmm)} is not hh:mm (UTC)`);
  return Number(m[1]) * 60 + Number(m[2]);
};

/** Minute-of-week intervals [start, end) covered by a weekly window (`ddd:hh:mm-ddd:hh:mm`), split at the week's end. */
export function weeklyWindowIntervals(window: string): Array<[number, number]> {
  const m = /^([a-z]{3}):(\d\d:\d\d)-([a-z]{3}):(\d\d:\d\d)$/.exec(window);
  const dayIndex = (d: string): number => {
    const i = DAYS.indexOf(d as (typeof DAYS)[number]);
    if (i === -1) throw new Error(`PreferredMaintenanceWindow: ${JSON.stringify(d)} in ${JSON.stringify(window)} is not a day (mon..sun)`);
    return i;
  };
  if (m === null) throw new Error(`PreferredMaintenanceWindow: ${JSON.stringify(window)} is not ddd:hh:mm-ddd:hh:mm (UTC)`);
  const start = dayIndex(m[1]) * MINUTES_PER_DAY + minutesOf(m[2], 'PreferredMaintenanceWindow');
  const end = dayIndex(m[3]) * MINUTES_PER_DAY + minutesOf(m[4], 'PreferredMaintenanceWindow');
  return end > start ? [[start, end]] : [[start, MINUTES_PER_WEEK], [0, end]];
}

/** The seven daily occurrences of a backup window (`hh:mm-hh:mm`) as minute-of-week intervals. */
export function dailyWindowIntervals(window: string): Array<[number, number]> {
  const m = /^(\d\d:\d\d)-(\d\d:\d\d)$/.exec(window);
  if (m === null) throw new Error(`PreferredBackupWindow: ${JSON.stringify(window)} is not hh:mm-hh:mm (UTC)`);
  const start = minutesOf(m[1], 'PreferredBackupWindow');
  const end = minutesOf(m[2], 'PreferredBackupWindow');
  const length = (end - start + MINUTES_PER_DAY) % MINUTES_PER_DAY;
  return DAYS.flatMap((_, day) => {
    const s = day * MINUTES_PER_DAY + start;
    return s + length <= MINUTES_PER_WEEK ? [[s, s + length] as [number, number]] : [[s, MINUTES_PER_WEEK] as [number, number], [0, s + length - MINUTES_PER_WEEK] as [number, number]];
  });
}

/** True when the daily backup window and the weekly maintenance window share a minute. */
export function windowsOverlap(backupWindow: string, maintenanceWindow: string): boolean {
  const backups = dailyWindowIntervals(backupWindow);
  return weeklyWindowIntervals(maintenanceWindow).some(([ms, me]) => backups.some(([bs, be]) => bs < me && ms < be));
}

/** Throws when RDS would reject the pair: the daily backup window and the weekly maintenance window may not share a minute. */
export function assertWindowsDisjoint(backupWindow: string, maintenanceWindow: string): void {
  if (windowsOverlap(backupWindow, maintenanceWindow)) {
    throw new Error(`PreferredBackupWindow ${backupWindow} overlaps PreferredMaintenanceWindow ${maintenanceWindow}; RDS rejects overlapping windows`);
  }
}
