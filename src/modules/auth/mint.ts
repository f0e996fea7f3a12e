import { importPKCS8, SignJWT } from 'jose';
import type { Config } from '../../config.js';

export interface MintOptions {
  userId: number;
  admin?: boolean;
  ttlSeconds?: number;
}

/**
 * Signs a user JWT the service accepts: `sub` = user id, `exp`, `role: admin` on request, plus
 * iss/aud when configured. HS256 uses JWT_SECRET; RS256/ES256 need the private key (PKCS#8 PEM)
 * in `privateKeyPem`. For local use and tests — production tokens come from your identity provider.
 */
export async function mintToken(
  config: Pick<Config, 'JWT_ALGORITHM' | 'JWT_SECRET' | 'JWT_ISSUER' | 'JWT_AUDIENCE'>,
  options: MintOptions,
  privateKeyPem?: string,
): Promise<string> {
  const key =
    config.JWT_ALGORITHM === 'HS256'
      ? new TextEncoder().encode(config.JWT_SECRET)
      : await importPKCS8(privateKeyPem ?? '', config.JWT_ALGORITHM);
  if (config.JWT_ALGORITHM === 'HS256' && config.JWT_SECRET === '')
    throw new Error('JWT_SECRET is not set');
  let jwt = new SignJWT(options.admin ? { role: 'admin' } : {})
    .setProtectedHeader({ alg: config.JWT_ALGORITHM })
    .setSubject(String(options.userId))
    .setIssuedAt()
    .setExpirationTime(`${options.ttlSeconds ?? 3600}s`);
  if (config.JWT_ISSUER !== '') jwt = jwt.setIssuer(config.JWT_ISSUER);
  if (config.JWT_AUDIENCE !== '') jwt = jwt.setAudience(config.JWT_AUDIENCE);
  return jwt.sign(key);
}
