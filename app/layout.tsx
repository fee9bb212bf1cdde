import type { Metadata, Viewport } from 'next';
import Link from 'next/link';
import packageJson from '@/package.json';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'Colorize & Upscale', template: '%s · Colorize & Upscale' },
  description: 'Colorize black-and-white photos and upscale photos ×2 or ×4 with pix2pix models running in TensorFlow.js on this server.',
};

export const viewport: Viewport = {
  width: 'device-width',
  initialScale: 1,
  colorScheme: 'light dark',
  themeColor: [
    { media: '(prefers-color-scheme: light)', color: '#f6f5f2' },
    { media: '(prefers-color-scheme: dark)', color: '#15171b' },
  ],
};

export default function RootLayout({ children }: { children: React.ReactNode }) {
  return (
    <html lang="en">
      <body>
        <a className="skip-link" href="#main">
          Skip to content
        </a>
        <header className="site-header">
          <div className="site-header-inner">
            <Link href="/" className="brand" aria-label="Colorize & Upscale, home">
              <span className="brand-mark" aria-hidden="true" />
              <span className="brand-name">Colorize &amp; Upscale</span>
            </Link>
            <nav aria-label="Main">
              <ul className="nav-list">
                <li>
                  <Link href="/">Tools</Link>
                </li>
                <li>
                  <Link href="/#help">Help</Link>
                </li>
                <li>
                  <Link href="/training">Training</Link>
                </li>
              </ul>
            </nav>
          </div>
        </header>
        <main id="main" className="site-main">
          {children}
        </main>
        <footer className="site-footer">
          <p>
            pix2pix-tfjs {packageJson.version} · Runs on this server with TensorFlow.js; photos are processed in memory
            and not stored.
          </p>
        </footer>
      </body>
    </html>
  );
}
