// Preloaded into a child `node` (NODE_OPTIONS=--import, see test/_helpers/clock.ts): its clock starts at the time
// in SMIME_TEST_CLOCK (ISO 8601) and runs on from there, so a CLI run on the sample identities of vectors/ judges them
// at the manifest's reference date whenever the test runs. The CLI has no option for the time of sign, encrypt or
// decrypt (verify and open have --at); the in-process runs (test/_helpers/cli.ts) give runCli a clock instead.
const target = Date.parse(process.env.SMIME_TEST_CLOCK ?? '');
if (!Number.isNaN(target)) {
  const RealDate = globalThis.Date;
  const offset = target - RealDate.now();
  const now = () => RealDate.now() + offset;
  function ShiftedDate(...args) {
    if (new.target === undefined) return new RealDate(now()).toString();
    return Reflect.construct(RealDate, args.length === 0 ? [now()] : args, new.target);
  }
  ShiftedDate.prototype = RealDate.prototype;
  Object.defineProperty(ShiftedDate, 'name', { value: 'Date' });
  ShiftedDate.now = now;
  ShiftedDate.parse = RealDate.parse;
  ShiftedDate.UTC = RealDate.UTC;
  globalThis.Date = ShiftedDate;
}
