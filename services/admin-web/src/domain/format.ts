/**
 * Display formatting. Stores are in Seoul, so times are shown in Asia/Seoul whatever the device's zone
 * (an operator abroad must see the same "until 14:30" the owner sees).
 */

export const STORE_TIME_ZONE = 'Asia/Seoul';

const timeFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: STORE_TIME_ZONE,
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

const dateTimeFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: STORE_TIME_ZONE,
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** `14:30` in Seoul. */
export function formatTime(iso: string | Date): string {
  return timeFormat.format(typeof iso === 'string' ? new Date(iso) : iso);
}

/** `3 Mar 2026, 14:30` in Seoul. */
export function formatDateTime(iso: string | Date): string {
  return dateTimeFormat.format(typeof iso === 'string' ? new Date(iso) : iso);
}

export function formatMinutes(minutes: number): string {
  return `${minutes} min`;
}

/** `09:00` for hour 9: the preview chart's axis. */
export function formatHour(hour: number): string {
  return `${String(hour).padStart(2, '0')}:00`;
}
