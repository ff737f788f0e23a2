export * from './certificate-material';
export * from './certificate-wallet';
export * from './server-certificate';
export * from './dms-certificate';
export * from './lightsail-certificate';
