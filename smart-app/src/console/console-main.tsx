/**
 * Entry of the analyst console (console.html), served by the engine at `/console/` and every
 * address under it; the console routes on the address itself.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ConsoleApp } from './console-app';
import '../styles/app.css';
import './console.css';

const root = document.getElementById('root');
if (root === null) throw new Error('console.html has no #root');
createRoot(root).render(
  <StrictMode>
    <ConsoleApp />
  </StrictMode>,
);
