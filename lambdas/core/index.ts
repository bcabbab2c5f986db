export * from './types';
export * from './providerId';
export * from './classify';
export * from './health';
export * from './capacity';
export * from './errors';
export * from './refresh';
export * from './replenish';
