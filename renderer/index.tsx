import { createRoot } from 'react-dom/client';
import { getBridge } from './bridge/get-bridge.js';
import { App } from './ui/App.js';
import './ui/styles.css';

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(<App bridge={getBridge()} />);
