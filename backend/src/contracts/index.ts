export * from './common.js';
export * from './files.js';
export * from './shares.js';
export * from './socket.js';
export * from './stats.js';
export * from './tasks.js';
export * from './tokens.js';
export * from './users.js';
