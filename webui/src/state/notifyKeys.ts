// Where the notification preferences live, and the event that says this tab
// changed them (other tabs get a storage event). Apart from notify.ts: the
// header's NotifierMount, on every page's first load, needs these only.
export const NOTIFY_KEY = 'gpumon.notify';
export const NOTIFY_EVENT = 'gpumon-notify';
