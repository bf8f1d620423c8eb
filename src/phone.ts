import { createRequire } from 'node:module';

type PhoneLib = typeof import('libphonenumber-js');

let lib: PhoneLib | undefined;

/**
 * libphonenumber-js, loaded the first time a phone number is compared or a region checked: it
 * takes about a tenth of a second to load, which every other command (and `--help`) is spared.
 */
export function phoneLib(): PhoneLib {
  lib ??= createRequire(import.meta.url)('libphonenumber-js') as PhoneLib;
  return lib;
}
