// The shape of a device's notify-breakpoint filters as the device registry will declare them
// (issue 10): the queue selection plus the extra condition fields the device fills in.

export interface DeviceNotifyFilter {
  id: string;
  label: string;
  device: string;
  /** null: any queue of the device. */
  queue: number | null;
  description: string;
  /** Extra condition fields (beyond the queue's own) and what they mean. */
  fields: Readonly<Record<string, string>>;
}
