// One declaration per option a person can set: its MachineOptions key (which is also its
// launch.json attribute), its CLI spellings, its type and its help. The CLI parser and its usage
// text, the launch.json validation and the launch schema in package.json are all derived from
// these declarations (option-parse.ts, scripts/manifest), so a flag and its attribute cannot
// drift apart. The machine's own options live in options.ts, each device's in its descriptor
// (src/devices/), the debugger's in debug-adapter/launch.ts.

export type OptionType =
  /** A host file that must exist (resolved against the workspace folder in launch.json). */
  | 'file'
  /** A host folder that must exist. */
  | 'dir'
  | 'string'
  | 'boolean'
  | 'integer'
  /** Any finite number (e.g. seconds). */
  | 'number'
  /** A list of strings: a repeated flag on the CLI, an array in launch.json. */
  | 'strings'
  /** Path prefix → host path (an object in launch.json; values resolved as paths; no CLI). */
  | 'pathMap';

export interface OptionSpec {
  /** The MachineOptions key and launch.json attribute, e.g. 'disk'. */
  readonly key: string;
  /** CLI spellings, short first: ['-d', '--disk']. None: launch.json only. */
  readonly cli?: readonly string[];
  readonly type: OptionType;
  /** The value's name in the CLI help: 'FILE', 'N', 'SPEC'. */
  readonly arg?: string;
  /** What a path names, for messages: 'kernel image', 'disk image'. */
  readonly what?: string;
  /** One sentence: the CLI help line and the launch schema's description. */
  readonly help: string;
  /** A longer launch schema description, when the sentence is not enough. */
  readonly detail?: string;
  readonly default?: string | number | boolean;
  readonly min?: number;
  readonly max?: number;
  readonly enum?: readonly string[];
  /** One description per enum value, for the launch schema. */
  readonly enumHelp?: readonly string[];
  /** Extra validation of a value of the right type: an error sentence, or undefined when fine. */
  readonly check?: (value: never) => string | undefined;
  /**
   * For string values that embed a host path (`wav:PATH`): rewrites the embedded path with
   * `resolve`, so a relative path in launch.json is relative to the workspace like every other.
   */
  readonly mapPath?: (value: string, resolve: (path: string) => string) => string;
  /**
   * Runs host programs, opens host ports, or reads or writes host paths: restricted in an
   * untrusted workspace. A function says it of one value (`wav:PATH` does, `null` does not).
   */
  readonly hostAccess?: boolean | ((value: never) => boolean);
  /**
   * Accepted on the CLI for semu compatibility but not available yet: the sentence says what is
   * missing. Such an option is left out of the launch schema.
   */
  readonly unavailable?: string;
}
