// asl-validator 4 ships no type declarations; this is the part the tests use.
declare module 'asl-validator' {
  interface AslValidationResult {
    isValid: boolean;
    errors: unknown[];
  }
  /** Note: it mutates its input; pass a copy. */
  function validateAsl(definition: unknown, options?: Record<string, unknown>): AslValidationResult;
  export default validateAsl;
}
