import type { NextConfig } from 'next';

/**
 * A static export served by the backend at `/` (`/tasks` -> out/tasks.html).
 * Type checking runs separately (`npm run typecheck`), so the build only bundles.
 */
const nextConfig: NextConfig = {
  output: 'export',
  trailingSlash: false,
  images: { unoptimized: true },
  reactStrictMode: true,
  poweredByHeader: false,
  productionBrowserSourceMaps: false,
};

export default nextConfig;
