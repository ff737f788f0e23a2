export * from './certificate-material';
export * from './server-certificate';
