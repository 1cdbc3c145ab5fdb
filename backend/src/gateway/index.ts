export { NodeRegistry } from './registry.js';
export * from './types.js';
