/**
 * Entry of `/app/` (index.html), where the EHR redirects after authorising. The URL is read once,
 * before fhirclient removes `code` and `state` from it; no router touches it.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/app';
import './styles/app.css';

const root = document.getElementById('root');
if (root === null) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <App pageUrl={window.location.href} />
  </StrictMode>,
);
